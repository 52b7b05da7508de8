<?php
/**
 * The plugin's network-wide tables ({$wpdb->base_prefix}wpbridge_*, listed in registry.php), created with dbDelta on
 * (network) activation and upgraded on the next request when the network option `wpbridge_db_version` is older than
 * DB_VERSION.
 * Nested values (limitations, price variations, add-ons, a payment's line items) are JSON text columns: one row is one record, so every
 * write of a record is one statement and cannot be half-applied.
 */

namespace WPBridge;

if ( ! defined( 'ABSPATH' ) ) {
	exit;
}

/** The CREATE TABLE statements of every table in the registry (registry.php), for dbDelta. */
function schema(): array {
	global $wpdb;
	$collate = $wpdb->get_charset_collate();
	$out     = array();
	foreach ( tables() as $name => $columns ) {
		$out[] = 'CREATE TABLE ' . table( $name ) . " ($columns\n) $collate;";
	}
	return $out;
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
		$wpdb->query( 'ALTER TABLE ' . ident( table( 'locks' ) ) . ' MODIFY name varchar(191) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL, MODIFY owner varchar(191) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL' ); // phpcs:ignore WordPress.DB.PreparedSQL.InterpolatedNotPrepared -- the table name is quoted by ident().
	}
	// Version 3: the payments table (issue 17), a new table that dbDelta above creates; nothing to migrate.
	// Version 4: the import key tables joined the registry (dbDelta creates them, or finds the ones that earlier
	// versions created on first use); their own version options are not needed any more.
	delete_site_option( 'wpbridge_import_db_version' );
	delete_site_option( 'wpbridge_import_payments_db_version' );
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
