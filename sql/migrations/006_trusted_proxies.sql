-- 006: trusted SIP proxies. A Kamailio/OpenSIPS in front of the switches relays every call from its
-- own address and names the caller in an X-AUTH-IP header; the header is trusted only from the
-- addresses listed here (per SIP profile, or on every profile with sip_profile_id 0). FsDirectory
-- serves them as acl.conf lists named by the profiles' apply-proxy-acl. Re-runnable: the table and
-- its rows are kept, triggers are replaced. Needs 004 (fsdir_change_version) and the same privileges.
CREATE TABLE IF NOT EXISTS `fsdir_trusted_proxies` (
  `id` int NOT NULL AUTO_INCREMENT,
  `name` varchar(64) NOT NULL DEFAULT '',
  `ip` varchar(64) NOT NULL DEFAULT '' COMMENT 'IPv4/IPv6 address or CIDR, stored canonically by the admin API',
  `sip_profile_id` int NOT NULL DEFAULT '0' COMMENT '0: trusted on every profile, otherwise sip_profiles.id',
  `status` tinyint(1) NOT NULL DEFAULT '0' COMMENT '0:active,1:inactive',
  `created_date` datetime NOT NULL DEFAULT CURRENT_TIMESTAMP,
  `last_modified_date` datetime NOT NULL DEFAULT CURRENT_TIMESTAMP,
  PRIMARY KEY (`id`),
  UNIQUE KEY `profile_ip` (`sip_profile_id`, `ip`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8;

INSERT IGNORE INTO `fsdir_change_version` (`table_name`, `version`) VALUES ('fsdir_trusted_proxies', 0);

DELIMITER $$
CREATE OR REPLACE TRIGGER `fsdir_trusted_proxies_ins` AFTER INSERT ON `fsdir_trusted_proxies` FOR EACH ROW
  UPDATE `fsdir_change_version` SET `version` = `version` + 1, `changed_at` = CURRENT_TIMESTAMP(6)
  WHERE `table_name` = 'fsdir_trusted_proxies'$$
CREATE OR REPLACE TRIGGER `fsdir_trusted_proxies_upd` AFTER UPDATE ON `fsdir_trusted_proxies` FOR EACH ROW
  UPDATE `fsdir_change_version` SET `version` = `version` + 1, `changed_at` = CURRENT_TIMESTAMP(6)
  WHERE `table_name` = 'fsdir_trusted_proxies'$$
CREATE OR REPLACE TRIGGER `fsdir_trusted_proxies_del` AFTER DELETE ON `fsdir_trusted_proxies` FOR EACH ROW
  UPDATE `fsdir_change_version` SET `version` = `version` + 1, `changed_at` = CURRENT_TIMESTAMP(6)
  WHERE `table_name` = 'fsdir_trusted_proxies'$$
DELIMITER ;
