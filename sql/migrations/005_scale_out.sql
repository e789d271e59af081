-- 005: several instances over one (possibly Galera-replicated) database.
-- Additive and idempotent; every table has a primary key (Galera replicates only such tables
-- reliably), and nothing here relies on GET_LOCK, which Galera does not replicate.

-- The Event Socket push lease: the instance named in `holder` pushes to the switches. It renews
-- by bumping `beat`; another instance takes over with a conditional UPDATE naming the term and
-- beat it saw unchanged for Cluster:TakeoverAfter on its own clock. Concurrent takeovers on two
-- Galera nodes conflict in certification, so exactly one commits. The timestamps are for people;
-- no decision reads them.
CREATE TABLE IF NOT EXISTS `fsdir_lease` (
  `name` varchar(64) NOT NULL,
  `holder` varchar(160) DEFAULT NULL,
  `term` bigint NOT NULL DEFAULT '0',
  `beat` bigint NOT NULL DEFAULT '0',
  `acquired_at` timestamp(6) NULL DEFAULT NULL,
  `renewed_at` timestamp(6) NULL DEFAULT NULL,
  PRIMARY KEY (`name`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

INSERT IGNORE INTO `fsdir_lease` (`name`) VALUES ('esl_push');

-- One row per running instance, rewritten every Cluster:RenewInterval: which database node it
-- reads and a digest of the acl.conf and sofia.conf it serves, so the pusher can wait until every
-- instance serves a change before telling the switches to fetch it.
CREATE TABLE IF NOT EXISTS `fsdir_instances` (
  `instance_id` varchar(160) NOT NULL,
  `address` varchar(200) NOT NULL DEFAULT '',
  `database_node` varchar(100) NOT NULL DEFAULT '',
  `snapshot_version` bigint NOT NULL DEFAULT '0',
  `served_digest` varchar(64) NOT NULL DEFAULT '',
  `beat` bigint NOT NULL DEFAULT '0',
  `started_at` timestamp(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
  `seen_at` timestamp(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
  PRIMARY KEY (`instance_id`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

-- Duplicate guard for the admin API: "network|prefix|sip_profile_id", written by the API with the
-- canonical network. A unique key is the one duplicate check Galera enforces across nodes (a
-- read-then-insert is not: there are no cross-node gap locks). Rows written with plain SQL keep
-- NULL, so ASTPP's own inserts never fail on it; the API's read check still covers them.
ALTER TABLE `ip_map` ADD COLUMN IF NOT EXISTS `fsdir_rule_key` varbinary(100) DEFAULT NULL;
CREATE UNIQUE INDEX IF NOT EXISTS `fsdir_rule_key` ON `ip_map` (`fsdir_rule_key`);

-- Existing rows: the lowest id of each (ip, prefix, profile) gets the key; later duplicates keep
-- NULL instead of failing the migration, and the problems report lists them as ties or shadowed.
UPDATE IGNORE `ip_map` SET `fsdir_rule_key` = CONCAT(`ip`, '|', `prefix`, '|', `sip_profile_id`)
WHERE `fsdir_rule_key` IS NULL ORDER BY `id`;

-- A plain-SQL edit of a keyed row's network, prefix or profile leaves a stale key behind; drop it
-- (the API's own updates set the new key in the same statement, which this leaves alone).
DELIMITER $$
CREATE OR REPLACE TRIGGER `fsdir_ip_map_rule_key` BEFORE UPDATE ON `ip_map` FOR EACH ROW
  IF NEW.`fsdir_rule_key` <=> OLD.`fsdir_rule_key`
     AND NOT (NEW.`ip` <=> OLD.`ip` AND BINARY NEW.`prefix` <=> BINARY OLD.`prefix`
              AND NEW.`sip_profile_id` <=> OLD.`sip_profile_id`) THEN
    SET NEW.`fsdir_rule_key` = NULL;
  END IF$$
DELIMITER ;
