using FsDirectory.Hosting;
using FsDirectory.Migrations;

if (MigrateCommand.CommandArguments(args) is { } migrate)
{
    return await MigrateCommand.MainAsync(args, migrate);
}

var builder = WebApplication.CreateBuilder(args);
builder.AddFsDirectory();

var app = builder.Build();
app.MapFsDirectory();
app.Run();
return 0;
