using FsDirectory.Hosting;
using FsDirectory.Migrations;

if (MigrateCommand.CommandArguments(args) is { } migrate)
{
    return await MigrateCommand.MainAsync(args, migrate);
}

var builder = WebApplication.CreateBuilder(args);
builder.AddFsDirectory();
if (!ServiceHost.CanStart(builder, Console.Error))
{
    return ServiceHost.ConfigurationError;
}

var app = builder.Build();
app.MapFsDirectory();
return await ServiceHost.RunAsync(app, Console.Error);
