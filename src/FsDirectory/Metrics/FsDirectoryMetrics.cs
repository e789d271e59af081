using FsDirectory.Snapshots;
using Prometheus;

namespace FsDirectory.Metrics;

/// <summary>
/// The service's Prometheus metrics, in a registry of its own (not prometheus-net's static default)
/// so that each host, and each test server, counts only its own requests.
/// </summary>
public sealed class FsDirectoryMetrics
{
    /// <summary>Label values for sections: a fixed set, so hostile <c>section</c> fields cannot grow the series count.</summary>
    private static readonly string[] KnownSections = ["directory", "dialplan", "configuration"];

    public FsDirectoryMetrics(SnapshotHolder snapshots, ReloadStatus reload, TimeProvider time)
    {
        Registry = Prometheus.Metrics.NewCustomRegistry();
        DotNetStats.Register(Registry);
        var factory = Prometheus.Metrics.WithCustomRegistry(Registry);

        Requests = factory.CreateCounter("fsdir_freeswitch_requests_total",
            "mod_xml_curl fetches by section and outcome (answered, not_found, rejected, refused, unavailable, error).",
            new CounterConfiguration { LabelNames = ["section", "outcome"] });
        Duration = factory.CreateHistogram("fsdir_freeswitch_request_duration_seconds",
            "Time to answer a mod_xml_curl fetch once its form is read, by section.",
            new HistogramConfiguration { LabelNames = ["section"], Buckets = Histogram.ExponentialBuckets(0.00005, 2, 16) });

        EslPushes = factory.CreateCounter("fsdir_esl_pushes_total",
            "Event Socket jobs (bgapi) sent to FreeSWITCH nodes, by node, command (reloadacl, rescan) and result (ok, refused: the node answered -ERR, failed: not delivered, or no result and the job counted as over after EventSocket:JobTimeout or a switch restart).",
            new CounterConfiguration { LabelNames = ["node", "command", "result"] });
        UntrustedXAuthIp = factory.CreateCounter("fsdir_x_auth_ip_untrusted_total",
            "Dialplan fetches carrying an X-AUTH-IP header from a source that is not a trusted proxy of the call's profile: the header was ignored (a spoof attempt, or a proxy missing from fsdir_trusted_proxies).");
        ClientCertificateRefusals = factory.CreateCounter("fsdir_freeswitch_client_certificate_refusals_total",
            "FreeSWITCH fetches refused with 403 because FreeSwitch:Access:ClientCertificate is Required, by reason (missing, untrusted, expired, not_allowed).",
            new CounterConfiguration { LabelNames = ["reason"] });
        RepeatedXAuthIp = factory.CreateCounter("fsdir_x_auth_ip_repeated_total",
            "Dialplan fetches from a trusted proxy carrying X-AUTH-IP more than once (sofia names the copies X-AUTH-IP-1, -2, ...): refused, since the caller could have put any address first (a proxy that appends its header without removing the caller's).");
        UnreadDialplanRefused = factory.CreateCounter("fsdir_dialplan_unread_refused_total",
            "Dialplan fetches that could not be read whole (too many fields, too large, a field twice) from a profile in dialplan mode (or one not read), answered with respond 403 instead of a status the switch would fall back to its static dialplan on.");
        LimitedDialplanAnswers = factory.CreateCounter("fsdir_dialplan_limited_answers_total",
            "Dialplan answers (IP-authenticated calls) that carried account or reseller call limits (Limits:Enabled).");
        Rebuilds = factory.CreateCounter("fsdir_snapshot_rebuilds_total",
            "Snapshots built from whole tables instead of applied row changes, by reason (startup, feed_trimmed, feed_stalled, bulk, default_profile, self_check, checksum, ...).",
            new CounterConfiguration { LabelNames = ["reason"] });
        FeedRowsApplied = factory.CreateCounter("fsdir_change_feed_rows_applied_total", "Change-feed rows applied to the live snapshot row by row.");
        FeedLateRows = factory.CreateCounter("fsdir_change_feed_late_rows_total",
            "Change-feed rows that became visible after higher feed ids had been read (concurrent transactions, Galera nodes); applied all the same.");
        FeedGapIdsGivenUp = factory.CreateCounter("fsdir_change_feed_gap_ids_given_up_total",
            "Feed ids below the last one read that did not show up within ChangeFeed:LateCommitWindow (rolled back, never used by a Galera node, or a transaction open longer: the self-check covers those).");
        SelfChecks = factory.CreateCounter("fsdir_snapshot_self_checks_total",
            "Comparisons of the live snapshot with the tables, by result (match, mismatch, skipped, failed). A mismatch is repaired by a full rebuild.",
            new CounterConfiguration { LabelNames = ["result"] });
        SelfCheckDifferences = factory.CreateCounter("fsdir_snapshot_self_check_differences_total", "Rows the self-check found different from the live snapshot.");
        FeedRowsTrimmed = factory.CreateCounter("fsdir_change_feed_rows_trimmed_total", "Change-feed rows deleted by this instance after ChangeFeed:Retention.");
        AuditRowsTrimmed = factory.CreateCounter("fsdir_audit_rows_trimmed_total", "Audit records deleted by this instance after Audit:Retention.");
        ReplacedSnapshotCollections = factory.CreateCounter("fsdir_replaced_snapshot_collections_total",
            "Background gen2 collections started after applied edits, so that replaced snapshots do not pile up in memory (ChangeFeed:CollectReplacedSnapshots).");

        var age = factory.CreateGauge("fsdir_snapshot_age_seconds", "Seconds since the snapshot being served was loaded (absent data: -1).");
        var version = factory.CreateGauge("fsdir_snapshot_version", "Sequence number of the snapshot being served (0 before the first load).");
        var rows = factory.CreateGauge("fsdir_snapshot_rows", "Rows in the snapshot being served, by kind.", new GaugeConfiguration { LabelNames = ["kind"] });
        var reachable = factory.CreateGauge("fsdir_database_reachable", "1 when the last database poll succeeded.");
        var contact = factory.CreateGauge("fsdir_database_last_contact_age_seconds", "Seconds since the database last answered (never: -1).");

        // Computed at scrape time from the current snapshot, so the gauges can never drift from what is served.
        Registry.AddBeforeCollectCallback(() =>
        {
            var now = time.GetUtcNow();
            var snapshot = snapshots.Current;
            age.Set(snapshot is null ? -1 : (now - snapshot.LoadedAt).TotalSeconds);
            version.Set(snapshot?.Version ?? 0);
            rows.WithLabels("ip_rules").Set(snapshot?.UsableRules.Count ?? 0);
            rows.WithLabels("devices").Set(snapshot?.Devices.Count ?? 0);
            rows.WithLabels("profiles").Set(snapshot?.Profiles.Count ?? 0);
            rows.WithLabels("problems").Set(snapshot?.Problems.Count ?? 0);
            rows.WithLabels("trusted_proxies").Set(snapshot?.Proxies.All.Count ?? 0);
            reachable.Set(reload.DatabaseReachable ? 1 : 0);
            contact.Set(reload.LastDatabaseContact is { } last ? (now - last).TotalSeconds : -1);
        });
    }

    public CollectorRegistry Registry { get; }

    public Counter Requests { get; }

    public Histogram Duration { get; }

    public Counter EslPushes { get; }

    public Counter UntrustedXAuthIp { get; }

    public Counter RepeatedXAuthIp { get; }

    public Counter ClientCertificateRefusals { get; }

    public Counter UnreadDialplanRefused { get; }

    /// <summary>Dialplan answers that applied at least one <c>limit</c>.</summary>
    public Counter LimitedDialplanAnswers { get; }

    /// <summary>A gauge read at scrape time, for a feature that owns the value (so it never drifts from it).</summary>
    public void AddGauge(string name, string help, Func<double> read)
    {
        var gauge = Prometheus.Metrics.WithCustomRegistry(Registry).CreateGauge(name, help);
        Registry.AddBeforeCollectCallback(() => gauge.Set(read()));
    }

    /// <summary>
    /// A gauge with one label, read at scrape time: <paramref name="read"/> yields the series that
    /// exist now (a series it leaves out keeps no stale value; it is dropped).
    /// </summary>
    public void AddGauge(string name, string help, string label, Func<IEnumerable<(string Label, double Value)>> read)
    {
        var gauge = Prometheus.Metrics.WithCustomRegistry(Registry).CreateGauge(name, help, new GaugeConfiguration { LabelNames = [label] });
        Registry.AddBeforeCollectCallback(() =>
        {
            var present = new HashSet<string>(StringComparer.Ordinal);
            foreach (var (value, reading) in read())
            {
                present.Add(value);
                gauge.WithLabels(value).Set(reading);
            }

            foreach (var labels in gauge.GetAllLabelValues().Where(l => !present.Contains(l[0])).ToList())
            {
                gauge.RemoveLabelled(labels);
            }
        });
    }

    public Counter Rebuilds { get; }

    public Counter FeedRowsApplied { get; }

    public Counter FeedLateRows { get; }

    public Counter FeedGapIdsGivenUp { get; }

    public Counter SelfChecks { get; }

    public Counter SelfCheckDifferences { get; }

    public Counter FeedRowsTrimmed { get; }

    public Counter AuditRowsTrimmed { get; }

    public Counter ReplacedSnapshotCollections { get; }

    /// <summary>A rebuild reason as a metric label: FeedTrimmed is feed_trimmed.</summary>
    public static string Label(RebuildReason reason) =>
        string.Concat(reason.ToString().Select((c, i) => i > 0 && char.IsUpper(c) ? "_" + char.ToLowerInvariant(c) : char.ToLowerInvariant(c).ToString()));

    public static string SectionLabel(string section)
    {
        foreach (var known in KnownSections)
        {
            if (string.Equals(section, known, StringComparison.OrdinalIgnoreCase))
            {
                return known;
            }
        }

        return section.Length == 0 ? "none" : "other";
    }
}
