using System.Diagnostics;
using System.Text;
using MySqlConnector;

namespace FsDirectory.Benchmarks.EndToEnd;

/// <summary>Replaces the bench database's rows with generated ones, in parameterised multi-row inserts.</summary>
public static class BenchDatabase
{
    private const int BatchRows = 1000;

    // TRUNCATE skips the change-tracking triggers: the service is not running while the data is replaced.
    private const string Clear = """
        TRUNCATE TABLE ip_map; TRUNCATE TABLE sip_devices; TRUNCATE TABLE accounts; TRUNCATE TABLE gateways;
        TRUNCATE TABLE sip_profiles; TRUNCATE TABLE fsdir_trusted_proxies; DELETE FROM `system` WHERE name = 'ip_auth_default_sip_profile';
        """;

    /// <summary>100,000 mixed rules and 1,000 devices: the data of the console and audit runs.</summary>
    public static async Task<List<RuleSpec>> LoadHundredThousandAsync(string connectionString)
    {
        var rules = BenchData.Rules(100_000, RuleFamily.Mixed);
        var loaded = await LoadAsync(connectionString, BenchData.Rows(rules, devices: 1_000));
        Console.WriteLine($"loaded 100,000 ip_map rows and {BenchData.Accounts:N0} accounts in {loaded.TotalSeconds:F1} s");
        return rules;
    }

    public static async Task<TimeSpan> LoadAsync(string connectionString, SnapshotData data)
    {
        var watch = Stopwatch.StartNew();
        await using var connection = new MySqlConnection(connectionString);
        await connection.OpenAsync();
        await using (var clear = new MySqlCommand(Clear, connection))
        {
            await clear.ExecuteNonQueryAsync();
        }

        await InsertAsync(connection, "sip_profiles", ["id", "name", "sip_ip", "sip_port", "profile_data", "status"],
            data.Profiles, p => [p.Id, p.Name, p.SipIp, p.SipPort, p.ProfileData, p.Status]);
        await InsertAsync(connection, "fsdir_trusted_proxies", ["id", "name", "ip", "sip_profile_id", "status"],
            data.TrustedProxies, p => [p.Id, p.Name, p.Ip, p.SipProfileId, p.Status]);
        await InsertAsync(connection, "accounts", ["id", "number", "reseller_id", "pricelist_id", "status", "type", "deleted"],
            data.Accounts, a => [a.Id, a.Number, a.ResellerId, a.PricelistId, a.Status, 0, a.Deleted]);
        await InsertAsync(connection, "sip_devices", ["id", "username", "accountid", "reseller_id", "dir_params", "dir_vars", "status"],
            data.Devices ?? [], d => [d.Id, d.Username, d.AccountId, d.ResellerId, d.DirParams, d.DirVars, d.Status]);
        await InsertAsync(connection, "ip_map", ["id", "name", "ip", "accountid", "reseller_id", "pricelist_id", "sip_profile_id", "prefix", "context", "status"],
            (data.IpRules ?? []).ToList(), r => [r.Id, r.Name, r.Ip, r.AccountId, r.ResellerId, r.PricelistId, r.SipProfileId, r.Prefix, r.Context, r.Status]);
        return watch.Elapsed;
    }

    private static async Task InsertAsync<T>(MySqlConnection connection, string table, string[] columns, IReadOnlyList<T> rows, Func<T, object?[]> values)
    {
        await using var transaction = await connection.BeginTransactionAsync();
        for (var start = 0; start < rows.Count; start += BatchRows)
        {
            var count = Math.Min(BatchRows, rows.Count - start);
            await using var command = new MySqlCommand { Connection = connection, Transaction = transaction };
            // Only placeholders are generated here; every value travels as a parameter.
            var sql = new StringBuilder($"INSERT INTO `{table}` ({string.Join(", ", columns)}) VALUES ");
            for (var row = 0; row < count; row++)
            {
                sql.Append(row == 0 ? "(" : ",(");
                var rowValues = values(rows[start + row]);
                for (var column = 0; column < columns.Length; column++)
                {
                    var name = $"@p{row}_{column}";
                    sql.Append(column == 0 ? name : "," + name);
                    command.Parameters.AddWithValue(name, rowValues[column]);
                }

                sql.Append(')');
            }

            command.CommandText = sql.ToString();
            await command.ExecuteNonQueryAsync();
        }

        await transaction.CommitAsync();
    }
}
