-- 004: change tracking. One version row per watched table, bumped by triggers on every insert,
-- update and delete, whether the change comes through FsDirectory or from plain SQL. The service
-- polls this small table instead of re-reading the data; without these triggers it falls back to
-- CHECKSUM TABLE polling (slower). Re-runnable: triggers are replaced, version rows kept.
-- Needs the TRIGGER privilege (and, with binary logging on, log_bin_trust_function_creators=1 or SUPER).
CREATE TABLE IF NOT EXISTS `fsdir_change_version` (
  `table_name` varchar(32) NOT NULL,
  `version` bigint NOT NULL DEFAULT '0',
  `changed_at` timestamp(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
  PRIMARY KEY (`table_name`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8;

INSERT IGNORE INTO `fsdir_change_version` (`table_name`, `version`) VALUES
  ('accounts', 0), ('ip_map', 0), ('sip_devices', 0), ('sip_profiles', 0), ('gateways', 0), ('system', 0);

DELIMITER $$
CREATE OR REPLACE TRIGGER `fsdir_accounts_ins` AFTER INSERT ON `accounts` FOR EACH ROW
  UPDATE `fsdir_change_version` SET `version` = `version` + 1, `changed_at` = CURRENT_TIMESTAMP(6)
  WHERE `table_name` = 'accounts'$$
CREATE OR REPLACE TRIGGER `fsdir_accounts_upd` AFTER UPDATE ON `accounts` FOR EACH ROW
  UPDATE `fsdir_change_version` SET `version` = `version` + 1, `changed_at` = CURRENT_TIMESTAMP(6)
  WHERE `table_name` = 'accounts'$$
CREATE OR REPLACE TRIGGER `fsdir_accounts_del` AFTER DELETE ON `accounts` FOR EACH ROW
  UPDATE `fsdir_change_version` SET `version` = `version` + 1, `changed_at` = CURRENT_TIMESTAMP(6)
  WHERE `table_name` = 'accounts'$$
CREATE OR REPLACE TRIGGER `fsdir_ip_map_ins` AFTER INSERT ON `ip_map` FOR EACH ROW
  UPDATE `fsdir_change_version` SET `version` = `version` + 1, `changed_at` = CURRENT_TIMESTAMP(6)
  WHERE `table_name` = 'ip_map'$$
CREATE OR REPLACE TRIGGER `fsdir_ip_map_upd` AFTER UPDATE ON `ip_map` FOR EACH ROW
  UPDATE `fsdir_change_version` SET `version` = `version` + 1, `changed_at` = CURRENT_TIMESTAMP(6)
  WHERE `table_name` = 'ip_map'$$
CREATE OR REPLACE TRIGGER `fsdir_ip_map_del` AFTER DELETE ON `ip_map` FOR EACH ROW
  UPDATE `fsdir_change_version` SET `version` = `version` + 1, `changed_at` = CURRENT_TIMESTAMP(6)
  WHERE `table_name` = 'ip_map'$$
CREATE OR REPLACE TRIGGER `fsdir_sip_devices_ins` AFTER INSERT ON `sip_devices` FOR EACH ROW
  UPDATE `fsdir_change_version` SET `version` = `version` + 1, `changed_at` = CURRENT_TIMESTAMP(6)
  WHERE `table_name` = 'sip_devices'$$
CREATE OR REPLACE TRIGGER `fsdir_sip_devices_upd` AFTER UPDATE ON `sip_devices` FOR EACH ROW
  UPDATE `fsdir_change_version` SET `version` = `version` + 1, `changed_at` = CURRENT_TIMESTAMP(6)
  WHERE `table_name` = 'sip_devices'$$
CREATE OR REPLACE TRIGGER `fsdir_sip_devices_del` AFTER DELETE ON `sip_devices` FOR EACH ROW
  UPDATE `fsdir_change_version` SET `version` = `version` + 1, `changed_at` = CURRENT_TIMESTAMP(6)
  WHERE `table_name` = 'sip_devices'$$
CREATE OR REPLACE TRIGGER `fsdir_sip_profiles_ins` AFTER INSERT ON `sip_profiles` FOR EACH ROW
  UPDATE `fsdir_change_version` SET `version` = `version` + 1, `changed_at` = CURRENT_TIMESTAMP(6)
  WHERE `table_name` = 'sip_profiles'$$
CREATE OR REPLACE TRIGGER `fsdir_sip_profiles_upd` AFTER UPDATE ON `sip_profiles` FOR EACH ROW
  UPDATE `fsdir_change_version` SET `version` = `version` + 1, `changed_at` = CURRENT_TIMESTAMP(6)
  WHERE `table_name` = 'sip_profiles'$$
CREATE OR REPLACE TRIGGER `fsdir_sip_profiles_del` AFTER DELETE ON `sip_profiles` FOR EACH ROW
  UPDATE `fsdir_change_version` SET `version` = `version` + 1, `changed_at` = CURRENT_TIMESTAMP(6)
  WHERE `table_name` = 'sip_profiles'$$
CREATE OR REPLACE TRIGGER `fsdir_gateways_ins` AFTER INSERT ON `gateways` FOR EACH ROW
  UPDATE `fsdir_change_version` SET `version` = `version` + 1, `changed_at` = CURRENT_TIMESTAMP(6)
  WHERE `table_name` = 'gateways'$$
CREATE OR REPLACE TRIGGER `fsdir_gateways_upd` AFTER UPDATE ON `gateways` FOR EACH ROW
  UPDATE `fsdir_change_version` SET `version` = `version` + 1, `changed_at` = CURRENT_TIMESTAMP(6)
  WHERE `table_name` = 'gateways'$$
CREATE OR REPLACE TRIGGER `fsdir_gateways_del` AFTER DELETE ON `gateways` FOR EACH ROW
  UPDATE `fsdir_change_version` SET `version` = `version` + 1, `changed_at` = CURRENT_TIMESTAMP(6)
  WHERE `table_name` = 'gateways'$$
CREATE OR REPLACE TRIGGER `fsdir_system_ins` AFTER INSERT ON `system` FOR EACH ROW
  IF NEW.`name` = 'ip_auth_default_sip_profile' THEN
    UPDATE `fsdir_change_version` SET `version` = `version` + 1, `changed_at` = CURRENT_TIMESTAMP(6)
    WHERE `table_name` = 'system';
  END IF$$
CREATE OR REPLACE TRIGGER `fsdir_system_upd` AFTER UPDATE ON `system` FOR EACH ROW
  IF NEW.`name` = 'ip_auth_default_sip_profile' OR OLD.`name` = 'ip_auth_default_sip_profile' THEN
    UPDATE `fsdir_change_version` SET `version` = `version` + 1, `changed_at` = CURRENT_TIMESTAMP(6)
    WHERE `table_name` = 'system';
  END IF$$
CREATE OR REPLACE TRIGGER `fsdir_system_del` AFTER DELETE ON `system` FOR EACH ROW
  IF OLD.`name` = 'ip_auth_default_sip_profile' THEN
    UPDATE `fsdir_change_version` SET `version` = `version` + 1, `changed_at` = CURRENT_TIMESTAMP(6)
    WHERE `table_name` = 'system';
  END IF$$
DELIMITER ;
