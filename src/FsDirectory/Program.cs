using FsDirectory.Hosting;
using FsDirectory.Migrations;

if (args is [MigrateCommand.Name, ..])
{
    return await MigrateCommand.MainAsync(args);
}

var builder = WebApplication.CreateBuilder(args);
builder.AddFsDirectory();

var app = builder.Build();
app.MapFsDirectory();
app.Run();
return 0;
