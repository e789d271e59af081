using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Diagnosers;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Running;
using BenchmarkDotNet.Toolchains.InProcess.Emit;
using FsDirectory.Benchmarks.EndToEnd;

// `e2e ...`: the end-to-end run behind `make bench`; `console ...`: the admin console's pages behind
// `make bench-console`; `audit ...`: an admin write with and without its audit record (AuditBenchmark); `memory ...`: the live-data profile behind `make bench-memory`; `soak ...`:
// what each edit at a million rules allocates and leaves to the GC (MemorySoak); `acl-size ...`: acl.conf's
// bytes, elements, memory and build time (AclSizeReport); `limits-ratio ...`: the dialplan answer with and without
// call limits, interleaved (LimitsRatio). Anything else goes to BenchmarkDotNet.
if (args.Length > 0 && args[0] == "e2e")
{
    return await EndToEndBenchmark.RunAsync(args[1..]);
}

if (args.Length > 0 && args[0] == "console")
{
    return await ConsoleBenchmark.RunAsync(args[1..]);
}

if (args.Length > 0 && args[0] == "audit")
{
    return await AuditBenchmark.RunAsync(args[1..]);
}

if (args.Length > 0 && args[0] == "soak")
{
    return FsDirectory.Benchmarks.MemorySoak.Run(args[1..]);
}

if (args.Length > 0 && args[0] == "acl-size")
{
    return FsDirectory.Benchmarks.AclSizeReport.Run(args[1..]);
}

if (args.Length > 0 && args[0] == "limits-ratio")
{
    return FsDirectory.Benchmarks.LimitsRatio.Run(args[1..]);
}

if (args.Length > 0 && args[0] == "memory")
{
    return FsDirectory.Benchmarks.MemoryProfile.Run(args[1..]);
}

// In-process short runs: the whole suite fits in a few minutes on a small shared machine; the
// figures are indicative (3 iterations), which is what the targets need.
var config = DefaultConfig.Instance
    .AddJob(Job.ShortRun.WithToolchain(InProcessEmitToolchain.Instance))
    .AddDiagnoser(MemoryDiagnoser.Default)
    .WithOptions(ConfigOptions.JoinSummary);
BenchmarkSwitcher.FromAssembly(typeof(FsDirectory.Benchmarks.BenchData).Assembly).Run(args, config);
return 0;
