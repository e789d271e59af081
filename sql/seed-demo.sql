-- FsDirectory demo data: one reseller, three customers, one provider, SIP devices, the `default`
-- SIP profile and IP rules of every kind. Fixed ids and INSERT IGNORE: loading it twice changes nothing.
-- Addresses are from the documentation ranges (RFC 5737, RFC 3849).
SET NAMES utf8mb4;

INSERT IGNORE INTO `sip_profiles` (`id`, `name`, `sip_ip`, `sip_port`, `profile_data`, `status`) VALUES
  (1, 'default', '$${local_ip_v4}', '5060',
   '{"rtp-ip":"$${local_ip_v4}","ext-rtp-ip":"$${local_ip_v4}","ext-sip-ip":"$${local_ip_v4}","dialplan":"XML","context":"public","auth-calls":"true","apply-inbound-acl":"default","accept-blind-reg":"false","rtp-timer-name":"soft","inbound-codec-prefs":"PCMA,PCMU","outbound-codec-prefs":"PCMA,PCMU","challenge-realm":"auto_from","nonce-ttl":"60","log-auth-failures":"true"}',
   0);

INSERT IGNORE INTO `system` (`id`, `name`, `display_name`, `value`, `reseller_id`, `group_title`, `sub_group`) VALUES
  (1, 'ip_auth_default_sip_profile', 'Default SIP profile for IP settings', '1', 0, 'fsdirectory', 'ip_auth');

-- type: 0 customer, 1 reseller, 3 provider
INSERT IGNORE INTO `accounts` (`id`, `number`, `reseller_id`, `pricelist_id`, `status`, `type`, `deleted`, `company_name`, `sip_credentials_disabled`) VALUES
  (1, '5000000001', 0, 1, 0, 1, 0, 'Northwind Reseller', 0),
  (2, '1000000001', 1, 2, 0, 0, 0, 'Contoso PBX', 0),
  (3, '1000000002', 1, 2, 0, 0, 0, 'Fabrikam Call Center', 0),
  (4, '1000000003', 0, 1, 0, 0, 0, 'Tailspin Trunking', 1),
  (5, '9000000001', 0, 3, 0, 3, 0, 'Wingtip Carrier', 0);

INSERT IGNORE INTO `sip_devices` (`id`, `username`, `sip_profile_id`, `reseller_id`, `accountid`, `dir_params`, `dir_vars`, `status`) VALUES
  (1, '1001', 1, 1, 2, '{"password":"Contoso-1001-secret","vm-password":"1001","vm-enabled":"true"}',
      '{"effective_caller_id_name":"Contoso Reception","effective_caller_id_number":"1001","user_context":"default"}', 0),
  (2, '1002', 1, 1, 2, '{"password":"Contoso-1002-secret","vm-password":"1002"}',
      '{"effective_caller_id_name":"Contoso Sales","effective_caller_id_number":"1002"}', 0),
  (3, '2001', 1, 1, 3, '{"password":"Fabrikam-2001-secret"}',
      '{"effective_caller_id_name":"Fabrikam Agent","effective_caller_id_number":"2001"}', 0),
  (4, '2002', 1, 1, 3, '{"password":"Fabrikam-2002-secret"}', '{}', 1),
  (5, '3001', 1, 0, 4, '{"password":"Tailspin-3001-secret"}', '{}', 0);

-- sip_profile_id 0 = the global default profile (system row above).
INSERT IGNORE INTO `ip_map` (`id`, `name`, `ip`, `accountid`, `reseller_id`, `pricelist_id`, `sip_profile_id`, `prefix`, `context`, `status`) VALUES
  (1, 'Contoso PBX',         '192.0.2.10/32',       2, 1, 0, 0, '',          'default', 0),
  (2, 'Fabrikam office',     '198.51.100.0/24',     3, 1, 0, 0, '',          'default', 0),
  (3, 'Tailspin IPv6',       '2001:db8:100::/48',   4, 0, 0, 0, '',          'default', 0),
  (4, 'Shared SBC Contoso',  '203.0.113.10/32',     2, 1, 0, 0, '12345678*', 'default', 0),
  (5, 'Shared SBC Fabrikam', '203.0.113.10/32',     3, 1, 0, 0, '87654321*', 'default', 0),
  (6, 'Wingtip carrier',     '203.0.113.64/28',     5, 0, 0, 1, '',          'default', 0),
  (7, 'Old Contoso office',  '192.0.2.99/32',       2, 1, 0, 0, '',          'default', 1);
