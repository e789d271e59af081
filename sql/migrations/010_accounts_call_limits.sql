-- 010: account call limits (issue 25). The service reads accounts.maxchannels (concurrent calls) and
-- accounts.cps (calls per second) into its snapshot and puts them in the dialplan and directory answers
-- when Limits:Enabled is true. ASTPP's own schema has both columns (same types and defaults: new
-- accounts get maxchannels = 1, cps = 0); a database made from sql/schema.sql gets them here.
ALTER TABLE `accounts` ADD COLUMN IF NOT EXISTS `maxchannels` int NOT NULL DEFAULT '1';
ALTER TABLE `accounts` ADD COLUMN IF NOT EXISTS `cps` int NOT NULL DEFAULT '0';

-- The accounts update trigger of 007, with the two columns added to the ones it compares: an edit of
-- a limit takes effect on the next call, and a column the service does not read (accounts.balance,
-- written by ASTPP on every call) still leaves no feed row. Same name: replaces 007's. Re-runnable.
DELIMITER $$
CREATE OR REPLACE TRIGGER `fsdir_accounts_upd` AFTER UPDATE ON `accounts` FOR EACH ROW
  IF NOT (NEW.`id` <=> OLD.`id` AND BINARY NEW.`number` <=> BINARY OLD.`number`
          AND NEW.`reseller_id` <=> OLD.`reseller_id` AND NEW.`pricelist_id` <=> OLD.`pricelist_id`
          AND NEW.`type` <=> OLD.`type` AND NEW.`status` <=> OLD.`status` AND NEW.`deleted` <=> OLD.`deleted`
          AND NEW.`sip_credentials_disabled` <=> OLD.`sip_credentials_disabled`
          AND NEW.`maxchannels` <=> OLD.`maxchannels` AND NEW.`cps` <=> OLD.`cps`) THEN
    INSERT INTO `fsdir_change_feed` (`table_name`, `row_id`, `change_kind`) VALUES ('accounts', NEW.`id`, 'U');
    IF NEW.`id` <> OLD.`id` THEN INSERT INTO `fsdir_change_feed` (`table_name`, `row_id`, `change_kind`) VALUES ('accounts', OLD.`id`, 'D'); END IF;
  END IF$$
DELIMITER ;
