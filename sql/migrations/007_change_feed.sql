-- 007: per-row change feed. Every insert, update and delete on a table the service reads appends
-- one row to fsdir_change_feed: which table, which row, what kind of change. The service reads the
-- feed (every Database:PollInterval) and applies just those rows to its in-memory snapshot instead
-- of re-reading whole tables; it deletes rows past ChangeFeed:Retention itself.
--
-- The triggers only INSERT. They replace 004's and 006's triggers (same names), which UPDATEd one
-- fsdir_change_version row per table: on a Galera cluster two concurrent writes on different nodes to
-- that one row fail certification (error 1213), so unrelated writes to accounts or ip_map would fail.
-- Feed ids are auto-increment (interleaved across Galera nodes), and the reader allows for ids that
-- commit out of order or never. fsdir_change_version is kept (004) but no longer written.
--
-- accounts: only changes to the columns the service reads are recorded (ASTPP updates
-- accounts.balance on every call). system: only the ip_auth_default_sip_profile setting.
-- Watching another table: add its three triggers here, in the same shape, and its name to
-- DirectoryTables.Watched (src/FsDirectory/Data/DirectoryTables.cs).
--
-- Re-runnable; needs the TRIGGER privilege (and with binary logging log_bin_trust_function_creators=1
-- or SUPER). Without these triggers the service falls back to CHECKSUM TABLE polling.
CREATE TABLE IF NOT EXISTS `fsdir_change_feed` (
  `id` bigint NOT NULL AUTO_INCREMENT,
  `table_name` varchar(64) NOT NULL,
  `row_id` bigint NOT NULL,
  `change_kind` char(1) NOT NULL COMMENT 'I insert, U update, D delete',
  `changed_at` timestamp(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
  PRIMARY KEY (`id`),
  KEY `fsdir_change_feed_changed_at` (`changed_at`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8;

-- An account's devices are re-read when the account changes (status, deleted, IP-only): without an
-- index that is a scan of every device. Additive; on Galera the ALTER runs cluster-wide (TOI), once.
CREATE INDEX IF NOT EXISTS `fsdir_accountid` ON `sip_devices` (`accountid`);

DELIMITER $$

-- ip_map
CREATE OR REPLACE TRIGGER `fsdir_ip_map_ins` AFTER INSERT ON `ip_map` FOR EACH ROW
  INSERT INTO `fsdir_change_feed` (`table_name`, `row_id`, `change_kind`) VALUES ('ip_map', NEW.`id`, 'I')$$
CREATE OR REPLACE TRIGGER `fsdir_ip_map_upd` AFTER UPDATE ON `ip_map` FOR EACH ROW
BEGIN
  INSERT INTO `fsdir_change_feed` (`table_name`, `row_id`, `change_kind`) VALUES ('ip_map', NEW.`id`, 'U');
  IF NEW.`id` <> OLD.`id` THEN INSERT INTO `fsdir_change_feed` (`table_name`, `row_id`, `change_kind`) VALUES ('ip_map', OLD.`id`, 'D'); END IF;
END$$
CREATE OR REPLACE TRIGGER `fsdir_ip_map_del` AFTER DELETE ON `ip_map` FOR EACH ROW
  INSERT INTO `fsdir_change_feed` (`table_name`, `row_id`, `change_kind`) VALUES ('ip_map', OLD.`id`, 'D')$$

-- sip_devices
CREATE OR REPLACE TRIGGER `fsdir_sip_devices_ins` AFTER INSERT ON `sip_devices` FOR EACH ROW
  INSERT INTO `fsdir_change_feed` (`table_name`, `row_id`, `change_kind`) VALUES ('sip_devices', NEW.`id`, 'I')$$
CREATE OR REPLACE TRIGGER `fsdir_sip_devices_upd` AFTER UPDATE ON `sip_devices` FOR EACH ROW
BEGIN
  INSERT INTO `fsdir_change_feed` (`table_name`, `row_id`, `change_kind`) VALUES ('sip_devices', NEW.`id`, 'U');
  IF NEW.`id` <> OLD.`id` THEN INSERT INTO `fsdir_change_feed` (`table_name`, `row_id`, `change_kind`) VALUES ('sip_devices', OLD.`id`, 'D'); END IF;
END$$
CREATE OR REPLACE TRIGGER `fsdir_sip_devices_del` AFTER DELETE ON `sip_devices` FOR EACH ROW
  INSERT INTO `fsdir_change_feed` (`table_name`, `row_id`, `change_kind`) VALUES ('sip_devices', OLD.`id`, 'D')$$

-- sip_profiles
CREATE OR REPLACE TRIGGER `fsdir_sip_profiles_ins` AFTER INSERT ON `sip_profiles` FOR EACH ROW
  INSERT INTO `fsdir_change_feed` (`table_name`, `row_id`, `change_kind`) VALUES ('sip_profiles', NEW.`id`, 'I')$$
CREATE OR REPLACE TRIGGER `fsdir_sip_profiles_upd` AFTER UPDATE ON `sip_profiles` FOR EACH ROW
BEGIN
  INSERT INTO `fsdir_change_feed` (`table_name`, `row_id`, `change_kind`) VALUES ('sip_profiles', NEW.`id`, 'U');
  IF NEW.`id` <> OLD.`id` THEN INSERT INTO `fsdir_change_feed` (`table_name`, `row_id`, `change_kind`) VALUES ('sip_profiles', OLD.`id`, 'D'); END IF;
END$$
CREATE OR REPLACE TRIGGER `fsdir_sip_profiles_del` AFTER DELETE ON `sip_profiles` FOR EACH ROW
  INSERT INTO `fsdir_change_feed` (`table_name`, `row_id`, `change_kind`) VALUES ('sip_profiles', OLD.`id`, 'D')$$

-- gateways
CREATE OR REPLACE TRIGGER `fsdir_gateways_ins` AFTER INSERT ON `gateways` FOR EACH ROW
  INSERT INTO `fsdir_change_feed` (`table_name`, `row_id`, `change_kind`) VALUES ('gateways', NEW.`id`, 'I')$$
CREATE OR REPLACE TRIGGER `fsdir_gateways_upd` AFTER UPDATE ON `gateways` FOR EACH ROW
BEGIN
  INSERT INTO `fsdir_change_feed` (`table_name`, `row_id`, `change_kind`) VALUES ('gateways', NEW.`id`, 'U');
  IF NEW.`id` <> OLD.`id` THEN INSERT INTO `fsdir_change_feed` (`table_name`, `row_id`, `change_kind`) VALUES ('gateways', OLD.`id`, 'D'); END IF;
END$$
CREATE OR REPLACE TRIGGER `fsdir_gateways_del` AFTER DELETE ON `gateways` FOR EACH ROW
  INSERT INTO `fsdir_change_feed` (`table_name`, `row_id`, `change_kind`) VALUES ('gateways', OLD.`id`, 'D')$$

-- fsdir_trusted_proxies (006)
CREATE OR REPLACE TRIGGER `fsdir_trusted_proxies_ins` AFTER INSERT ON `fsdir_trusted_proxies` FOR EACH ROW
  INSERT INTO `fsdir_change_feed` (`table_name`, `row_id`, `change_kind`) VALUES ('fsdir_trusted_proxies', NEW.`id`, 'I')$$
CREATE OR REPLACE TRIGGER `fsdir_trusted_proxies_upd` AFTER UPDATE ON `fsdir_trusted_proxies` FOR EACH ROW
BEGIN
  INSERT INTO `fsdir_change_feed` (`table_name`, `row_id`, `change_kind`) VALUES ('fsdir_trusted_proxies', NEW.`id`, 'U');
  IF NEW.`id` <> OLD.`id` THEN INSERT INTO `fsdir_change_feed` (`table_name`, `row_id`, `change_kind`) VALUES ('fsdir_trusted_proxies', OLD.`id`, 'D'); END IF;
END$$
CREATE OR REPLACE TRIGGER `fsdir_trusted_proxies_del` AFTER DELETE ON `fsdir_trusted_proxies` FOR EACH ROW
  INSERT INTO `fsdir_change_feed` (`table_name`, `row_id`, `change_kind`) VALUES ('fsdir_trusted_proxies', OLD.`id`, 'D')$$

-- accounts: the columns DirectoryStore reads (number compared as bytes: the column's collation
-- ignores case and trailing spaces, the accountcode does not).
CREATE OR REPLACE TRIGGER `fsdir_accounts_ins` AFTER INSERT ON `accounts` FOR EACH ROW
  INSERT INTO `fsdir_change_feed` (`table_name`, `row_id`, `change_kind`) VALUES ('accounts', NEW.`id`, 'I')$$
CREATE OR REPLACE TRIGGER `fsdir_accounts_upd` AFTER UPDATE ON `accounts` FOR EACH ROW
  IF NOT (NEW.`id` <=> OLD.`id` AND BINARY NEW.`number` <=> BINARY OLD.`number`
          AND NEW.`reseller_id` <=> OLD.`reseller_id` AND NEW.`pricelist_id` <=> OLD.`pricelist_id`
          AND NEW.`type` <=> OLD.`type` AND NEW.`status` <=> OLD.`status` AND NEW.`deleted` <=> OLD.`deleted`
          AND NEW.`sip_credentials_disabled` <=> OLD.`sip_credentials_disabled`) THEN
    INSERT INTO `fsdir_change_feed` (`table_name`, `row_id`, `change_kind`) VALUES ('accounts', NEW.`id`, 'U');
    IF NEW.`id` <> OLD.`id` THEN INSERT INTO `fsdir_change_feed` (`table_name`, `row_id`, `change_kind`) VALUES ('accounts', OLD.`id`, 'D'); END IF;
  END IF$$
CREATE OR REPLACE TRIGGER `fsdir_accounts_del` AFTER DELETE ON `accounts` FOR EACH ROW
  INSERT INTO `fsdir_change_feed` (`table_name`, `row_id`, `change_kind`) VALUES ('accounts', OLD.`id`, 'D')$$

-- system: only the global default SIP profile for IP rules.
CREATE OR REPLACE TRIGGER `fsdir_system_ins` AFTER INSERT ON `system` FOR EACH ROW
  IF NEW.`name` = 'ip_auth_default_sip_profile' THEN
    INSERT INTO `fsdir_change_feed` (`table_name`, `row_id`, `change_kind`) VALUES ('system', NEW.`id`, 'I');
  END IF$$
CREATE OR REPLACE TRIGGER `fsdir_system_upd` AFTER UPDATE ON `system` FOR EACH ROW
  IF NEW.`name` = 'ip_auth_default_sip_profile' OR OLD.`name` = 'ip_auth_default_sip_profile' THEN
    INSERT INTO `fsdir_change_feed` (`table_name`, `row_id`, `change_kind`) VALUES ('system', NEW.`id`, 'U');
    IF NEW.`id` <> OLD.`id` THEN INSERT INTO `fsdir_change_feed` (`table_name`, `row_id`, `change_kind`) VALUES ('system', OLD.`id`, 'D'); END IF;
  END IF$$
CREATE OR REPLACE TRIGGER `fsdir_system_del` AFTER DELETE ON `system` FOR EACH ROW
  IF OLD.`name` = 'ip_auth_default_sip_profile' THEN
    INSERT INTO `fsdir_change_feed` (`table_name`, `row_id`, `change_kind`) VALUES ('system', OLD.`id`, 'D');
  END IF$$
DELIMITER ;
