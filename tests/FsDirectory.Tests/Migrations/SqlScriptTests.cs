using FsDirectory.Migrations;
using FsDirectory.Tests.Infrastructure;

namespace FsDirectory.Tests.Migrations;

public sealed class SqlScriptTests
{
    [Fact]
    public void A_delimiter_block_keeps_the_semicolons_of_trigger_bodies_and_ends_at_its_own_delimiter()
    {
        var statements = SqlScript.Split(
            """
            CREATE TABLE t (id int);
            DELIMITER $$
            CREATE TRIGGER a AFTER INSERT ON t FOR EACH ROW
            BEGIN
              INSERT INTO u VALUES (1);
              INSERT INTO u VALUES (2);
            END$$
            delimiter ;
            INSERT INTO t VALUES (3);
            """);

        Assert.Equal(
            [
                "CREATE TABLE t (id int)",
                "CREATE TRIGGER a AFTER INSERT ON t FOR EACH ROW\nBEGIN\n  INSERT INTO u VALUES (1);\n  INSERT INTO u VALUES (2);\nEND",
                "INSERT INTO t VALUES (3)",
            ],
            statements.Select(static s => s.Text.ReplaceLineEndings("\n")));
        Assert.Equal([1, 3, 9], statements.Select(static s => s.Line));
    }

    [Fact]
    public void Delimiters_inside_quotes_identifiers_and_comments_do_not_end_a_statement()
    {
        var statements = SqlScript.Split(
            """
            INSERT INTO t VALUES ('a;b', "c;d", 'it''s;', 'back\';slash');
            SELECT `odd;name` FROM t; -- a comment; with a semicolon
            SELECT 1 /* block; comment */ + 2;
            """);

        Assert.Equal(
            ["INSERT INTO t VALUES ('a;b', \"c;d\", 'it''s;', 'back\\';slash')", "SELECT `odd;name` FROM t", "SELECT 1   + 2"],
            statements.Select(static s => s.Text));
    }

    [Fact]
    public void Comments_are_dropped_as_the_client_drops_them_but_executable_comments_are_kept()
    {
        var statements = SqlScript.Split(
            """
            -- leading comment
            # hash comment
            SELECT /*!40101 SQL_NO_CACHE */ 1;
            SELECT 3--1;
            """);

        Assert.Equal(["SELECT /*!40101 SQL_NO_CACHE */ 1", "SELECT 3--1"], statements.Select(static s => s.Text));
        Assert.Equal(3, statements[0].Line);
    }

    [Fact]
    public void A_statement_without_a_final_delimiter_is_still_one_and_empty_statements_are_skipped()
    {
        var statements = SqlScript.Split("SELECT 1;;\n;\nSELECT 2\n-- trailing comment\n");

        Assert.Equal(["SELECT 1", "SELECT 2"], statements.Select(static s => s.Text));
    }

    [Theory]
    [InlineData("SELECT 'open;\n", 1, "' quote is not closed")]
    [InlineData("SELECT 1;\nSELECT /* open", 2, "comment is not closed")]
    [InlineData("SELECT 1\nDELIMITER $$\n", 2, "DELIMITER inside a statement")]
    [InlineData("DELIMITER \n", 1, "DELIMITER needs a delimiter")]
    public void What_the_client_would_read_differently_is_refused_with_its_line(string script, int line, string problem)
    {
        var refusal = Assert.Throws<SqlScriptException>(() => SqlScript.Split(script));

        Assert.Equal(line, refusal.Line);
        Assert.Contains(problem, refusal.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Every_shipped_file_splits_into_the_statements_the_stock_client_runs()
    {
        var files = MigrationFiles.Load(Paths.Sql(""));

        // Counted by hand from the files: schema.sql is SET NAMES and six tables; 004 a table, its
        // rows and 18 triggers; 007 a table, an index and 21 triggers; 008 one column; 009 a table; 010 two columns and a trigger.
        Assert.Equal(
            [
                ("schema.sql", 7), ("migrations/001_ip_map_sip_profile.sql", 1), ("migrations/002_ip_map_ip_width.sql", 4),
                ("migrations/003_accounts_sip_credentials_disabled.sql", 1), ("migrations/004_change_tracking.sql", 20),
                ("migrations/005_scale_out.sql", 7), ("migrations/006_trusted_proxies.sql", 5), ("migrations/007_change_feed.sql", 23),
                ("migrations/008_sip_profiles_ip_auth_mode.sql", 1), ("migrations/009_fsdir_audit.sql", 1),
                ("migrations/010_accounts_call_limits.sql", 3),
            ],
            files.Select(static f => (f.Name, f.Statements.Count)));
        Assert.All(files.SelectMany(static f => f.Statements), static s =>
        {
            Assert.DoesNotContain("DELIMITER", s.Text, StringComparison.OrdinalIgnoreCase);
            Assert.False(s.Text.EndsWith("$$", StringComparison.Ordinal), s.Text);
            Assert.False(s.Text.StartsWith("--", StringComparison.Ordinal), s.Text);
        });
    }
}
