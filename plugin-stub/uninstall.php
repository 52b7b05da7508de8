<?php
/**
 * Run by WordPress when the plugin is deleted (never on deactivation): removes everything the plugin created on
 * the network, namely its tables ({$wpdb->base_prefix}wpbridge_*), its network options (the API credentials
 * included) and its site meta (`wpbridge_quota`, `wpbridge_custom_domains`) of every site. The daily visit counts
 * `wu_visits_*` are kept: they use Ultimate Multisite's own meta keys, which UM may share.
 *
 * @package WPBridge
 */

if ( ! defined( 'WP_UNINSTALL_PLUGIN' ) ) {
	exit;
}

/**
 * Drop the tables and delete the options and site meta. A function, so nothing leaks into the global scope.
 */
function wpbridge_stub_uninstall(): void {
	global $wpdb;
	$tables = array( 'products', 'customers', 'memberships', 'discount_codes', 'site_links', 'scheduled_changes', 'locks', 'payments' );
	foreach ( $tables as $name ) {
		$wpdb->query( 'DROP TABLE IF EXISTS `' . esc_sql( $wpdb->base_prefix . 'wpbridge_' . $name ) . '`' ); // phpcs:ignore WordPress.DB.PreparedSQL
	}
	$options = array( 'wpbridge_api_key', 'wpbridge_api_secret', 'wpbridge_allow_query_auth', 'wpbridge_db_version', 'wpbridge_test_faults' );
	foreach ( $options as $option ) {
		delete_site_option( $option );
	}
	if ( is_multisite() ) {
		foreach ( array( 'wpbridge_quota', 'wpbridge_custom_domains' ) as $key ) {
			delete_metadata( 'blog', 0, $key, '', true ); // Every site's row with that key.
		}
	}
}

wpbridge_stub_uninstall();
