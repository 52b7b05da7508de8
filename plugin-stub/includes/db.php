<?php
/**
 * The plugin's network-wide tables ({$wpdb->base_prefix}wpbridge_*), created with dbDelta on (network) activation
 * and upgraded on the next request when the network option `wpbridge_db_version` is older than DB_VERSION.
 * Nested values (limitations, price variations, add-ons, a payment's line items) are JSON text columns: one row is one record, so every
 * write of a record is one statement and cannot be half-applied.
 */

namespace WPBridge;

if ( ! defined( 'ABSPATH' ) ) {
	exit;
}

function table( string $name ): string {
	global $wpdb;
	return $wpdb->base_prefix . 'wpbridge_' . $name;
}

function schema(): array {
	global $wpdb;
	$c = $wpdb->get_charset_collate();
	$t = fn( string $n ) => table( $n );
	return array(
		"CREATE TABLE {$t('products')} (
  id bigint(20) unsigned NOT NULL AUTO_INCREMENT,
  slug varchar(191) NOT NULL,
  name varchar(191) NOT NULL DEFAULT '',
  description longtext NULL,
  type varchar(20) NOT NULL DEFAULT 'plan',
  pricing_type varchar(20) NOT NULL DEFAULT 'paid',
  amount decimal(13,4) NOT NULL DEFAULT 0,
  setup_fee decimal(13,4) NOT NULL DEFAULT 0,
  currency varchar(10) NOT NULL DEFAULT 'USD',
  recurring tinyint(1) NOT NULL DEFAULT 1,
  duration smallint(5) unsigned NOT NULL DEFAULT 1,
  duration_unit varchar(10) NOT NULL DEFAULT 'month',
  billing_cycles smallint(5) unsigned NOT NULL DEFAULT 0,
  trial_duration smallint(5) unsigned NOT NULL DEFAULT 0,
  trial_duration_unit varchar(10) NOT NULL DEFAULT 'day',
  product_group varchar(191) NOT NULL DEFAULT '',
  list_order int(11) NOT NULL DEFAULT 10,
  active tinyint(1) NOT NULL DEFAULT 1,
  available_addons text NULL,
  price_variations text NULL,
  limitations longtext NULL,
  date_created datetime NULL,
  date_modified datetime NULL,
  PRIMARY KEY  (id),
  UNIQUE KEY slug (slug),
  KEY type_order (type,list_order),
  KEY product_group (product_group)
) $c;",
		"CREATE TABLE {$t('customers')} (
  id bigint(20) unsigned NOT NULL AUTO_INCREMENT,
  user_id bigint(20) unsigned NOT NULL DEFAULT 0,
  type varchar(20) NOT NULL DEFAULT 'customer',
  email_verification varchar(20) NOT NULL DEFAULT 'none',
  has_trialed tinyint(1) NOT NULL DEFAULT 0,
  vip tinyint(1) NOT NULL DEFAULT 0,
  signup_form varchar(191) NOT NULL DEFAULT '',
  billing_address text NULL,
  extra_information text NULL,
  date_registered datetime NULL,
  last_login datetime NULL,
  date_modified datetime NULL,
  PRIMARY KEY  (id),
  KEY user_id (user_id)
) $c;",
		"CREATE TABLE {$t('memberships')} (
  id bigint(20) unsigned NOT NULL AUTO_INCREMENT,
  customer_id bigint(20) unsigned NOT NULL DEFAULT 0,
  user_id bigint(20) unsigned NOT NULL DEFAULT 0,
  plan_id bigint(20) unsigned NOT NULL DEFAULT 0,
  addon_products text NULL,
  currency varchar(10) NOT NULL DEFAULT 'USD',
  amount decimal(13,4) NOT NULL DEFAULT 0,
  initial_amount decimal(13,4) NOT NULL DEFAULT 0,
  duration smallint(5) unsigned NOT NULL DEFAULT 1,
  duration_unit varchar(10) NOT NULL DEFAULT 'month',
  recurring tinyint(1) NOT NULL DEFAULT 0,
  auto_renew tinyint(1) NOT NULL DEFAULT 0,
  times_billed smallint(5) unsigned NOT NULL DEFAULT 0,
  billing_cycles smallint(5) unsigned NOT NULL DEFAULT 0,
  status varchar(12) NOT NULL DEFAULT 'pending',
  discount_code varchar(191) NOT NULL DEFAULT '',
  gateway varchar(50) NOT NULL DEFAULT '',
  gateway_customer_id varchar(191) NOT NULL DEFAULT '',
  gateway_subscription_id varchar(191) NOT NULL DEFAULT '',
  signup_method varchar(50) NOT NULL DEFAULT '',
  upgraded_from bigint(20) unsigned NOT NULL DEFAULT 0,
  disabled tinyint(1) NOT NULL DEFAULT 0,
  limitations longtext NULL,
  date_created datetime NULL,
  date_activated datetime NULL,
  date_trial_end datetime NULL,
  date_renewed datetime NULL,
  date_cancellation datetime NULL,
  date_expiration datetime NULL,
  date_payment_plan_completed datetime NULL,
  date_modified datetime NULL,
  PRIMARY KEY  (id),
  KEY status_id (status,id),
  KEY customer_id (customer_id,id),
  KEY plan_id (plan_id),
  KEY date_expiration (date_expiration)
) $c;",
		"CREATE TABLE {$t('discount_codes')} (
  id bigint(20) unsigned NOT NULL AUTO_INCREMENT,
  name varchar(191) NOT NULL DEFAULT '',
  code varchar(191) NOT NULL,
  description text NULL,
  uses int(10) unsigned NOT NULL DEFAULT 0,
  max_uses int(10) unsigned NOT NULL DEFAULT 0,
  apply_to_renewals tinyint(1) NOT NULL DEFAULT 0,
  type varchar(20) NOT NULL DEFAULT 'percentage',
  value decimal(13,4) NOT NULL DEFAULT 0,
  setup_fee_type varchar(20) NOT NULL DEFAULT 'percentage',
  setup_fee_value decimal(13,4) NOT NULL DEFAULT 0,
  active tinyint(1) NOT NULL DEFAULT 1,
  limit_products tinyint(1) NOT NULL DEFAULT 0,
  allowed_products text NULL,
  limit_billing_periods tinyint(1) NOT NULL DEFAULT 0,
  allowed_billing_periods text NULL,
  date_start datetime NULL,
  date_expiration datetime NULL,
  date_created datetime NULL,
  date_modified datetime NULL,
  PRIMARY KEY  (id),
  UNIQUE KEY code (code)
) $c;",
		"CREATE TABLE {$t('site_links')} (
  blog_id bigint(20) unsigned NOT NULL,
  membership_id bigint(20) unsigned NOT NULL DEFAULT 0,
  customer_id bigint(20) unsigned NOT NULL DEFAULT 0,
  type varchar(30) NOT NULL DEFAULT 'customer_owned',
  limitations longtext NULL,
  date_modified datetime NULL,
  PRIMARY KEY  (blog_id),
  KEY membership_id (membership_id),
  KEY customer_id (customer_id)
) $c;",
		"CREATE TABLE {$t('scheduled_changes')} (
  membership_id bigint(20) unsigned NOT NULL,
  scheduled_for datetime NOT NULL,
  target longtext NOT NULL,
  note text NULL,
  created_at datetime NOT NULL,
  updated_at datetime NOT NULL,
  PRIMARY KEY  (membership_id),
  KEY scheduled_for (scheduled_for)
) $c;",
		"CREATE TABLE {$t('payments')} (
  id bigint(20) unsigned NOT NULL AUTO_INCREMENT,
  customer_id bigint(20) unsigned NOT NULL DEFAULT 0,
  membership_id bigint(20) unsigned NOT NULL DEFAULT 0,
  parent_id bigint(20) unsigned NOT NULL DEFAULT 0,
  product_id bigint(20) unsigned NOT NULL DEFAULT 0,
  status varchar(20) NOT NULL DEFAULT 'pending',
  currency varchar(10) NOT NULL DEFAULT 'USD',
  discount_code varchar(191) NOT NULL DEFAULT '',
  subtotal decimal(13,4) NOT NULL DEFAULT 0,
  discount_total decimal(13,4) NOT NULL DEFAULT 0,
  tax_total decimal(13,4) NOT NULL DEFAULT 0,
  total decimal(13,4) NOT NULL DEFAULT 0,
  refund_total decimal(13,4) NOT NULL DEFAULT 0,
  gateway varchar(50) NOT NULL DEFAULT '',
  gateway_payment_id varchar(191) NOT NULL DEFAULT '',
  invoice_number int(10) unsigned NOT NULL DEFAULT 0,
  hash varchar(32) NOT NULL DEFAULT '',
  change_key varchar(64) NOT NULL DEFAULT '',
  line_items longtext NULL,
  wpbridge longtext NULL,
  date_created datetime NULL,
  date_modified datetime NULL,
  PRIMARY KEY  (id),
  KEY membership_id (membership_id,id),
  KEY customer_id (customer_id,id),
  KEY status_id (status,id),
  KEY change_key (change_key),
  KEY invoice_number (invoice_number),
  KEY hash (hash)
) $c;",
		"CREATE TABLE {$t('locks')} (
  name varchar(191) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
  owner varchar(191) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
  expires_ms bigint(20) NOT NULL,
  acquired_at datetime NOT NULL,
  PRIMARY KEY  (name)
) $c;",
	);
}

/**
 * Create or upgrade the tables. Idempotent; run by the (network) activation hook, by tools/activate.php, and on
 * the first request after the plugin's files were updated. Later migrations go here, keyed on the stored version.
 */
function install(): void {
	global $wpdb;
	require_once ABSPATH . 'wp-admin/includes/upgrade.php';
	$from = (int) get_site_option( 'wpbridge_db_version', 0 );
	dbDelta( schema() );
	if ( $from > 0 && $from < 2 ) {
		// Version 2: lock names and owners compare exactly ('owner1' must not release 'Owner1'). dbDelta does not
		// change a column's collation, so the upgrade does it.
		$wpdb->query( 'ALTER TABLE ' . table( 'locks' ) . ' MODIFY name varchar(191) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL, MODIFY owner varchar(191) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL' );
	}
	// Version 3: the payments table (issue 17), a new table that dbDelta above creates; nothing to migrate.
	update_site_option( 'wpbridge_db_version', DB_VERSION );
}

function maybe_upgrade(): void {
	if ( (int) get_site_option( 'wpbridge_db_version', 0 ) < DB_VERSION ) {
		install();
	}
}

function now_gmt(): string {
	return gmdate( 'Y-m-d H:i:s' );
}
