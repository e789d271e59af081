using System.Diagnostics;
using System.Globalization;
using MySqlConnector;

namespace FsDirectory.Migrations;

/// <summary>
/// What one run of <c>fsdirectory migrate</c> does with the SQL files and the ledger: report, plan,
/// or apply each pending file once.
/// </summary>
public sealed class Migrator(string connectionString, IReadOnlyList<MigrationFile> files, TextWriter stdout, TimeSpan claimTimeout)
{
    // Who applied a file, for people reading the ledger; the run id tells two runs of one process apart.
    private readonly string _claimedBy = string.Create(CultureInfo.InvariantCulture,
        $"{Environment.UserName}@{Environment.MachineName} pid {Environment.ProcessId} run {Guid.NewGuid().ToString("N")[..8]}");

    /// <summary>Applied, pending, changed, being applied, and recorded files with no file here. 1 when a run would be refused.</summary>
    public async Task<int> StatusAsync(CancellationToken ct)
    {
        await using var connection = await OpenAsync(ct);
        var rows = await ReadLedgerAsync(new MigrationLedger(connection), ct);
        foreach (var file in files)
        {
            rows.TryGetValue(file.Name, out var row);
            await stdout.WriteLineAsync(row switch
            {
                null => $"pending   {file.Name}",
                _ when IsChanged(row, file) => $"CHANGED   {file.Name}: {Change(row, file)}",
                { State: LedgerRow.Applied } => $"applied   {file.Name}  {Time(row.AppliedAt)}  {row.ClaimedBy}",
                _ => $"applying  {file.Name}: claimed {Time(row.ClaimedAt)} by {row.ClaimedBy}",
            });
        }

        await ReportUnknownAsync(rows);
        return files.Any(f => rows.TryGetValue(f.Name, out var row) && IsChanged(row, f)) ? 1 : 0;
    }

    /// <summary>Applies every pending file in order (or, with <paramref name="dryRun"/>, only says which). Throws <see cref="MigrationException"/> to refuse.</summary>
    public async Task RunAsync(bool dryRun, CancellationToken ct)
    {
        await using var connection = await OpenAsync(ct);
        var ledger = new MigrationLedger(connection);
        var rows = await ReadLedgerAsync(ledger, ct);
        RefuseChanged(rows);
        await ReportUnknownAsync(rows);

        var pending = files.Where(f => !rows.TryGetValue(f.Name, out var row) || row.State != LedgerRow.Applied).ToList();
        if (dryRun)
        {
            foreach (var file in pending)
            {
                await stdout.WriteLineAsync($"would apply  {file.Name} ({Statements(file)})");
            }

            await stdout.WriteLineAsync(pending.Count == 0
                ? $"up to date: all {files.Count} files applied; nothing would run"
                : $"dry run: {pending.Count} of {files.Count} files would be applied; nothing was changed");
            return;
        }

        if (rows.Count == 0)
        {
            // CREATE TABLE IF NOT EXISTS from two runs at once is safe: one creates, the other finds it
            // (on Galera it replicates in total order, TOI).
            await ledger.CreateAsync(ct);
        }

        var applied = 0;
        foreach (var file in pending)
        {
            if (await ClaimAsync(ledger, file, ct))
            {
                await ApplyAsync(ledger, file, ct);
                applied++;
            }
        }

        await stdout.WriteLineAsync(applied == 0
            ? $"up to date: all {files.Count} files applied"
            : $"done: {applied} applied, {files.Count - applied} already applied");
    }

    /// <summary>
    /// Owns the file (true), or waits until another run has applied it (false). Refuses when that run
    /// applied a different file under the same name, or when its claim is orphaned.
    /// </summary>
    private async Task<bool> ClaimAsync(MigrationLedger ledger, MigrationFile file, CancellationToken ct)
    {
        var announced = false;
        long lastBeat = -1;
        var beatSeen = Stopwatch.StartNew();
        while (true)
        {
            if (await ledger.TryClaimAsync(file, _claimedBy, ct))
            {
                return true;
            }

            var row = await ledger.ReadAsync(file.Name, ct);
            if (row is null)
            {
                // The other run failed and released its claim (or, on Galera, its row has not reached
                // this node yet): claim again after a breath.
                await Task.Delay(TimeSpan.FromMilliseconds(100), ct);
                continue;
            }

            if (row.State == LedgerRow.Applied)
            {
                RefuseChanged(new Dictionary<string, LedgerRow> { [row.Name] = row });
                await stdout.WriteLineAsync($"applied   {file.Name} by another run ({row.ClaimedBy})");
                return false;
            }

            if (!announced)
            {
                await stdout.WriteLineAsync($"waiting   {file.Name}: being applied by {row.ClaimedBy} since {Time(row.ClaimedAt)}");
                announced = true;
            }

            // The beat is compared with itself, on this machine's clock: no two clocks are compared.
            if (row.Beat != lastBeat)
            {
                lastBeat = row.Beat;
                beatSeen.Restart();
            }
            else if (beatSeen.Elapsed > claimTimeout)
            {
                throw new MigrationException(
                    $"refused: {file.Name} was claimed {Time(row.ClaimedAt)} by {row.ClaimedBy} (database user {row.DbUser}), and that run has " +
                    $"not shown a sign of life for {claimTimeout.TotalSeconds:0} s. If it is still running (a long ALTER on a busy server), run " +
                    $"migrate again later, or with a longer --claim-timeout. If it is gone (crashed or killed), check the file's effect (the files are " +
                    $"written to be re-run), clear the claim, and run migrate again:{Environment.NewLine}" +
                    $"  DELETE FROM {MigrationLedger.Table} WHERE name = '{file.Name.Replace("'", "''", StringComparison.Ordinal)}' AND state = 'applying';");
            }

            await Task.Delay(TimeSpan.FromMilliseconds(250), ct);
        }
    }

    /// <summary>
    /// Runs the file's statements on a session of their own, as `mariadb DB &lt; file` does, so one
    /// file's session settings (SET NAMES, user variables, prepared statements) never reach another.
    /// The claim's heartbeat goes through the ledger's connection meanwhile.
    /// </summary>
    private async Task ApplyAsync(MigrationLedger ledger, MigrationFile file, CancellationToken ct)
    {
        var clock = Stopwatch.StartNew();
        using var stopBeating = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var heartbeat = BeatAsync(ledger, file.Name, stopBeating.Token);
        var number = 0;
        try
        {
            await using var session = await OpenAsync(ct);
            foreach (var statement in file.Statements)
            {
                number++;
                await using var command = new MySqlCommand(statement.Text, session);
                await command.ExecuteNonQueryAsync(ct);
            }
        }
        catch (Exception ex) when (ex is MySqlException or OperationCanceledException)
        {
            await stopBeating.CancelAsync();
            await heartbeat;
            // Without the claim a later run starts the file again; the files are written for that.
            // Not cancellable: a claim left behind by Ctrl+C would stop the next run.
            await ledger.ReleaseAsync(file.Name, _claimedBy, CancellationToken.None);
            if (ex is OperationCanceledException || number == 0)
            {
                throw;
            }

            var statement = file.Statements[number - 1];
            throw new MigrationException(
                $"failed: {file.Name}, statement {number} of {file.Statements.Count} (line {statement.Line}): {ex.Message}. " +
                $"Statements before it took effect (DDL is not transactional); the file is not recorded, and the next run applies it again.");
        }

        await stopBeating.CancelAsync();
        await heartbeat;
        await ledger.CompleteAsync(file.Name, _claimedBy, clock.ElapsedMilliseconds, ct);
        await stdout.WriteLineAsync($"applied   {file.Name} ({Statements(file)}, {clock.ElapsedMilliseconds} ms)");
    }

    private async Task BeatAsync(MigrationLedger ledger, string name, CancellationToken ct)
    {
        try
        {
            using var timer = new PeriodicTimer(MigrationLedger.HeartbeatInterval);
            while (await timer.WaitForNextTickAsync(ct))
            {
                await ledger.BeatAsync(name, _claimedBy, ct);
            }
        }
        catch (OperationCanceledException)
        {
        }
        catch (MySqlException)
        {
            // A lost heartbeat only makes a waiting run give up early; it never stops this one.
        }
    }

    private void RefuseChanged(IReadOnlyDictionary<string, LedgerRow> rows)
    {
        var changed = files
            .Where(f => rows.TryGetValue(f.Name, out var row) && IsChanged(row, f))
            .Select(f => $"  {f.Name}: {Change(rows[f.Name], f)}")
            .ToList();
        if (changed.Count > 0)
        {
            throw new MigrationException(
                $"refused: {(changed.Count == 1 ? "an applied file has" : "applied files have")} changed since {(changed.Count == 1 ? "it was" : "they were")} applied, so nothing was applied:{Environment.NewLine}" +
                string.Join(Environment.NewLine, changed) + Environment.NewLine +
                "An applied migration is never edited: restore the file as it was applied, and put the change in a new migration.");
        }
    }

    /// <summary>
    /// Recorded files this folder lacks: SQL of an older version than the one that migrated the
    /// database (a downgrade), or the wrong --sql. Said, not refused: every file here may still apply.
    /// </summary>
    private async Task ReportUnknownAsync(IReadOnlyDictionary<string, LedgerRow> rows)
    {
        foreach (var row in rows.Values.Where(r => files.All(f => f.Name != r.Name)))
        {
            await stdout.WriteLineAsync($"unknown   {row.Name}: recorded ({row.State}), but there is no such file here (SQL of an older version?)");
        }
    }

    private static bool IsChanged(LedgerRow row, MigrationFile file) => row.State == LedgerRow.Applied && row.Checksum != file.Checksum;

    private static string Change(LedgerRow row, MigrationFile file) =>
        $"applied {Time(row.AppliedAt)} with sha256 {row.Checksum}, the file now has {file.Checksum}";

    private static async Task<IReadOnlyDictionary<string, LedgerRow>> ReadLedgerAsync(MigrationLedger ledger, CancellationToken ct) =>
        await ledger.ExistsAsync(ct) ? await ledger.ReadAllAsync(ct) : new Dictionary<string, LedgerRow>();

    private async Task<MySqlConnection> OpenAsync(CancellationToken ct)
    {
        var connection = new MySqlConnection(connectionString);
        try
        {
            await connection.OpenAsync(ct);
            return connection;
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }
    }

    private static string Statements(MigrationFile file) =>
        file.Statements.Count == 1 ? "1 statement" : $"{file.Statements.Count} statements";

    private static string Time(DateTime? time) =>
        time?.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture) ?? "-";
}
