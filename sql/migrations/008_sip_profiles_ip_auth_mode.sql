-- 008: per-profile IP-authentication mode (issue 29). 'acl' (the default, what every profile did before):
-- the profile is served with auth-calls=true and apply-inbound-acl naming its acl.conf list of customer
-- addresses. 'dialplan': auth-calls=false and no customer list; the dialplan answer alone decides each call
-- (respond 403 without a usable rule), so the switch's ACL does not grow with the customers.
-- A column, not a key in profile_data: profile_data is ASTPP's list of sofia params, rewritten whole by
-- its profile editor, and every key in it is served as a <param>.
ALTER TABLE `sip_profiles` ADD COLUMN IF NOT EXISTS `fsdir_ip_auth_mode` varchar(16) NOT NULL DEFAULT 'acl';
