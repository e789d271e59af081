-- 001: per-rule SIP profile (0 = the global default profile, system row ip_auth_default_sip_profile).
-- Additive and idempotent: applies to a fresh FsDirectory schema and to an unmodified ASTPP 6.0 database.
ALTER TABLE `ip_map` ADD COLUMN IF NOT EXISTS `sip_profile_id` int NOT NULL DEFAULT '0' AFTER `pricelist_id`;
