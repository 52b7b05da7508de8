<?php
/**
 * Everything the plugin stores on a network, in one place: its tables, its network options and its site meta.
 * install() (db.php) creates the tables listed here, and uninstall.php removes exactly what is listed here, so a
 * table or an option added to the plugin is added here once and is both created and removed.
 *
 * This file has no dependency on the rest of the plugin: uninstall.php loads it alone (WordPress does not load a
 * deleted plugin's main file before running its uninstall.php).
 *
 * @package WPBridge
 */

namespace WPBridge;

if ( ! defined( 'ABSPATH' ) ) {
	exit;
}

/** The network options of the plugin (get_site_option). */
const OPTIONS = array(
	'wpbridge_api_key',
	'wpbridge_api_secret',
	'wpbridge_allow_query_auth',
	'wpbridge_db_version',
	'wpbridge_um_version',
	// Left by versions before db_version 4, which created the import tables on first use with their own versions.
	'wpbridge_import_db_version',
	'wpbridge_import_payments_db_version',
);

/** Site meta (blogmeta) of the plugin, on any site. UM's own keys (`wu_*`) are not listed: UM owns them. */
const SITE_META = array(
	'wpbridge_quota',                      // A site's quota (stub mode, quota.php).
	'wpbridge_custom_domains',             // A site's custom-domain count (stub mode, usage.php).
	'wpbridge_suspended',                  // UM mode: the site is suspended (suspension.php).
	'wpbridge_override_before_suspension', // UM mode: the site's own UM override kept while suspended.
);

/** The blogmeta flags of a suspension in UM mode (the override a suspended site had is kept beside them). */
const UM_SUSPENDED_KEY      = 'wpbridge_suspended';
const UM_SAVED_OVERRIDE_KEY = 'wpbridge_override_before_suspension';

/** A table of the plugin: `{$wpdb->base_prefix}wpbridge_{$name}`. */
function table( string $name ): string {
	global $wpdb;
	return $wpdb->base_prefix . 'wpbridge_' . $name;
}

/** A table or column name quoted for SQL (`name`), for the statements that cannot take a placeholder for it. */
function ident( string $name ): string {
	return '`' . str_replace( '`', '``', $name ) . '`';
}

/**
 * The plugin's tables, `name => columns and keys` (dbDelta's format: two spaces after PRIMARY KEY). install()
 * creates and upgrades them with dbDelta; uninstall.php drops every one of them.
 */
function tables(): array {
	return array(
		'products'            => "
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
  KEY product_group (product_group)",
		'customers'           => "
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
  KEY user_id (user_id)",
		'memberships'         => "
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
  KEY date_expiration (date_expiration)",
		'discount_codes'      => "
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
  UNIQUE KEY code (code)",
		'site_links'          => "
  blog_id bigint(20) unsigned NOT NULL,
  membership_id bigint(20) unsigned NOT NULL DEFAULT 0,
  customer_id bigint(20) unsigned NOT NULL DEFAULT 0,
  type varchar(30) NOT NULL DEFAULT 'customer_owned',
  limitations longtext NULL,
  date_modified datetime NULL,
  PRIMARY KEY  (blog_id),
  KEY membership_id (membership_id),
  KEY customer_id (customer_id)",
		'scheduled_changes'   => '
  membership_id bigint(20) unsigned NOT NULL,
  scheduled_for datetime NOT NULL,
  target longtext NOT NULL,
  note text NULL,
  created_at datetime NOT NULL,
  updated_at datetime NOT NULL,
  PRIMARY KEY  (membership_id),
  KEY scheduled_for (scheduled_for)',
		'payments'            => "
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
  KEY hash (hash)",
		'locks'               => '
  name varchar(191) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
  owner varchar(191) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
  expires_ms bigint(20) NOT NULL,
  acquired_at datetime NOT NULL,
  PRIMARY KEY  (name)',
		// The natural keys of `wpbridge import` (import.php): a source membership key, or `site:<domain><path>`
		// while an import creates that site.
		'import_keys'         => '
  source_key varchar(191) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
  membership_id bigint(20) unsigned NOT NULL DEFAULT 0,
  date_created datetime NOT NULL,
  PRIMARY KEY  (source_key),
  KEY membership_id (membership_id)',
		// The source payment keys of `wpbridge import` (import-payments.php).
		'import_payment_keys' => '
  source_key varchar(191) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
  payment_id bigint(20) unsigned NOT NULL DEFAULT 0,
  date_created datetime NOT NULL,
  PRIMARY KEY  (source_key),
  KEY payment_id (payment_id)',
	);
}

/**
 * UM mode's suspension lifted from one site: the site's own UM override it had before (blogmeta `wu_limitations`)
 * is put back, or deleted when it had none, and the suspension's own keys go. Nothing happens to a site that is
 * not suspended. Used by the suspension route and by uninstall.php (a suspended site must not keep the suspended
 * limits once the plugin is gone).
 */
function lift_suspension( int $blog_id ): bool {
	if ( ! get_site_meta( $blog_id, UM_SUSPENDED_KEY, true ) ) {
		return false;
	}
	$before = get_site_meta( $blog_id, UM_SAVED_OVERRIDE_KEY, true );
	if ( $before ) {
		update_site_meta( $blog_id, 'wu_limitations', $before );
	} else {
		delete_site_meta( $blog_id, 'wu_limitations' );
	}
	delete_site_meta( $blog_id, UM_SAVED_OVERRIDE_KEY );
	delete_site_meta( $blog_id, UM_SUSPENDED_KEY );
	return true;
}

/**
 * Remove everything listed above from the network: suspended sites get their own override back first, then the
 * tables are dropped and the options and site meta deleted. Run by uninstall.php.
 */
function remove_everything(): void {
	global $wpdb;
	if ( is_multisite() ) {
		$suspended = $wpdb->get_col( $wpdb->prepare( "SELECT DISTINCT blog_id FROM {$wpdb->blogmeta} WHERE meta_key = %s", UM_SUSPENDED_KEY ) );
		foreach ( $suspended as $blog_id ) {
			lift_suspension( (int) $blog_id );
		}
		foreach ( SITE_META as $key ) {
			delete_metadata( 'blog', 0, $key, '', true ); // Every site's row with that key.
		}
	}
	foreach ( array_keys( tables() ) as $name ) {
		// A table name cannot be a placeholder before WordPress 6.2 (%i); ident() quotes it.
		$wpdb->query( 'DROP TABLE IF EXISTS ' . ident( table( $name ) ) ); // phpcs:ignore WordPress.DB.PreparedSQL.NotPrepared
	}
	foreach ( OPTIONS as $option ) {
		delete_site_option( $option );
	}
	if ( is_multisite() ) { // The key screen's one-minute notes (keys.php: a new pair shown once after the redirect).
		$wpdb->query( $wpdb->prepare( "DELETE FROM {$wpdb->sitemeta} WHERE meta_key LIKE %s OR meta_key LIKE %s", $wpdb->esc_like( '_site_transient_wpbridge_keys_shown_' ) . '%', $wpdb->esc_like( '_site_transient_timeout_wpbridge_keys_shown_' ) . '%' ) );
	}
}
