using FsDirectory.Benchmarks.Host;
using FsDirectory.Hosting;

// The real service, composed exactly as src/FsDirectory/Program.cs does, plus the benchmark's
// ceiling endpoint in the same process, so both are measured under the same Kestrel, runtime and
// machine load. Production code carries nothing for the benchmark.
var builder = WebApplication.CreateBuilder(args);
builder.AddFsDirectory();

var app = builder.Build();
app.MapFsDirectory();
app.MapCeiling();
app.Run();
