-- 009: the audit trail. Every admin write (JSON API, console, fsdir, CSV import, bulk actions,
-- trusted proxies, IP only, the default profile) inserts one row per changed row here, in the same
-- transaction as the change: a rolled-back write leaves no record, and no change commits without one.
-- Plain SQL edits are not recorded here (the change feed, 007, still sees them).
--
-- Insert-only, keyed by AUTO_INCREMENT (interleaved across Galera nodes by auto_increment_offset):
-- records written on different nodes never touch the same row, as with fsdir_change_feed. Rows past
-- Audit:Retention are deleted by the service, a small batch at a time.
--
-- reseller_id and account_id are the changed row's account (accounts.reseller_id, 0 for the
-- operator's own accounts) taken at write time, so a reseller key's view is an indexed WHERE;
-- NULL for operator settings (trusted proxies, the default profile), which reseller keys never see.
-- key_name is the API key's configured name, never the key. Re-runnable.
CREATE TABLE IF NOT EXISTS `fsdir_audit` (
  `id` bigint NOT NULL AUTO_INCREMENT,
  `request_id` char(32) CHARACTER SET ascii NOT NULL COMMENT 'one per admin request: ties the rows of a bulk action or import',
  `changed_at` datetime(6) NOT NULL COMMENT 'UTC',
  `key_name` varchar(100) NOT NULL,
  `client_address` varchar(45) NULL COMMENT 'after X-Forwarded-For from ForwardedHeaders:KnownProxies',
  `via` varchar(16) NOT NULL COMMENT 'api or console',
  `entity` varchar(32) NOT NULL COMMENT 'ip_setting, account, trusted_proxy, default_sip_profile',
  `entity_id` bigint NULL,
  `action` varchar(16) NOT NULL COMMENT 'create, replace, delete, activate, deactivate, import, ip_only, set',
  `account_id` int NULL,
  `reseller_id` int NULL,
  `before_json` longtext NULL,
  `after_json` longtext NULL,
  PRIMARY KEY (`id`),
  KEY `fsdir_audit_changed_at` (`changed_at`),
  KEY `fsdir_audit_reseller` (`reseller_id`, `changed_at`),
  KEY `fsdir_audit_entity` (`entity`, `entity_id`, `changed_at`),
  KEY `fsdir_audit_key` (`key_name`, `changed_at`),
  KEY `fsdir_audit_request` (`request_id`),
  CONSTRAINT `fsdir_audit_before_json` CHECK (`before_json` IS NULL OR JSON_VALID(`before_json`)),
  CONSTRAINT `fsdir_audit_after_json` CHECK (`after_json` IS NULL OR JSON_VALID(`after_json`))
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
