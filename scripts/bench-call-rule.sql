-- For the benchmark scripts (tls-bench.sh, limits-bench.sh): the demo data has no rule for the source of the real
-- tech-prefix capture (dialplan-acl-authed-tech-prefix: 127.0.0.2, 12345678*, profile trunks), so without this its
-- fetch is answered with the refusal, not the transfer. Bound to a customer with a reseller (account 2, reseller 1).
INSERT INTO sip_profiles (id, name, sip_ip, sip_port, profile_data, status)
  SELECT 90, 'trunks', '127.0.0.1', '5090', '{"context":"public"}', 0 FROM DUAL
  WHERE NOT EXISTS (SELECT 1 FROM sip_profiles WHERE name = 'trunks');
INSERT INTO ip_map (name, ip, accountid, reseller_id, sip_profile_id, prefix, context, status)
  SELECT 'bench tech-prefix', '127.0.0.2/32', 2, 1, (SELECT id FROM sip_profiles WHERE name = 'trunks'), '12345678*', 'default', 0
  FROM DUAL WHERE NOT EXISTS (SELECT 1 FROM ip_map WHERE ip = '127.0.0.2/32');
