using FsDirectory.Hosting;

var builder = WebApplication.CreateBuilder(args);
builder.AddFsDirectory();

var app = builder.Build();
app.MapFsDirectory();
app.Run();
