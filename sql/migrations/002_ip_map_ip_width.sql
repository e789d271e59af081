-- 002: widen ip_map.ip so any IPv6 CIDR fits ("ffff:...:ffff/128" is 43 characters, an
-- IPv4-mapped form up to 49). Only ever widens: a column that is already wide is left alone.
SET @fsdir_sql := (
  SELECT IF(CHARACTER_MAXIMUM_LENGTH < 64,
            'ALTER TABLE `ip_map` MODIFY `ip` varchar(64) NOT NULL DEFAULT ''''',
            'DO 0')
  FROM information_schema.COLUMNS
  WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'ip_map' AND COLUMN_NAME = 'ip');
PREPARE fsdir_stmt FROM @fsdir_sql;
EXECUTE fsdir_stmt;
DEALLOCATE PREPARE fsdir_stmt;
