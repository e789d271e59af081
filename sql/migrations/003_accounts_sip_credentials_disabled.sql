-- 003: IP-only accounts. 1 = SIP credentials of this account's devices are refused; only IP
-- authentication is accepted for it.
ALTER TABLE `accounts` ADD COLUMN IF NOT EXISTS `sip_credentials_disabled` tinyint(1) NOT NULL DEFAULT '0';
