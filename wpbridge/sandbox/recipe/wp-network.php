<?php
/*
 * Phase 2 (WordPress now boots as a multisite), run by wpbridge/sandbox/runner.py with the PHP CLI:
 *   1. network-activates plugin-stub (its activation creates its tables),
 *   2. stores the API credentials (network options wpbridge_api_key / wpbridge_api_secret),
 *   3. creates the extra sites /site2/ ... /siteN/,
 *   4. creates an Application Password for the admin user.
 * Prints one JSON object on stdout. Secrets come from the environment, never from argv (visible in ps).
 * Variables are prefixed: wp-settings.php uses (and unsets) globals such as $plugin.
 *   env: WP_DOCROOT, WP_DOMAIN, WP_ADMIN_USER, WP_SITES (total incl. the main site),
 *        WPBRIDGE_PLUGIN (plugin basename, e.g. "wpbridge/wpbridge.php"; empty: no plugin),
 *        WPBRIDGE_API_KEY, WPBRIDGE_API_SECRET, WP_APP_NAME (default "wpbridge-sandbox")
 */
if ( PHP_SAPI !== 'cli' ) {
	exit( 1 );
}
function wpbridge_sandbox_fail( $code, $message ) {
	fwrite( STDERR, "wp-network.php: $message\n" );
	exit( $code );
}
$wpb_docroot = rtrim( (string) getenv( 'WP_DOCROOT' ), '/' );
$wpb_domain  = (string) getenv( 'WP_DOMAIN' );
$wpb_user    = (string) getenv( 'WP_ADMIN_USER' );
$wpb_nsites  = (int) ( getenv( 'WP_SITES' ) ?: 3 );
$wpb_plugin  = (string) getenv( 'WPBRIDGE_PLUGIN' );
$wpb_key     = (string) getenv( 'WPBRIDGE_API_KEY' );
$wpb_secret  = (string) getenv( 'WPBRIDGE_API_SECRET' );
$wpb_appname = getenv( 'WP_APP_NAME' ) ?: 'wpbridge-sandbox';

require __DIR__ . '/cli-request.php';
wpbridge_fake_request( $wpb_domain, $wpb_docroot );

require $wpb_docroot . '/wp-load.php';
require_once ABSPATH . 'wp-admin/includes/plugin.php';

if ( ! is_multisite() ) {
	wpbridge_sandbox_fail( 3, 'WordPress did not boot as a multisite (MULTISITE constants missing?)' );
}
$wpb_admin = get_user_by( 'login', $wpb_user );
if ( ! $wpb_admin ) {
	wpbridge_sandbox_fail( 3, "no user $wpb_user" );
}
if ( ! is_super_admin( $wpb_admin->ID ) ) {
	grant_super_admin( $wpb_admin->ID );
}
wp_set_current_user( $wpb_admin->ID );

// 1. The plugin first, so that its hooks see the sites created below.
if ( '' !== $wpb_plugin ) {
	$wpb_r = activate_plugin( $wpb_plugin, '', true );
	if ( is_wp_error( $wpb_r ) ) {
		wpbridge_sandbox_fail( 4, "activate_plugin($wpb_plugin) failed: " . $wpb_r->get_error_code() . ': ' . $wpb_r->get_error_message() );
	}
	if ( ! is_plugin_active_for_network( $wpb_plugin ) ) {
		wpbridge_sandbox_fail( 4, "$wpb_plugin is not network-active after activate_plugin()" );
	}
}

// 2. API credentials (the plugin compares them in constant time; they are never logged).
if ( '' !== $wpb_key && '' !== $wpb_secret ) {
	update_site_option( 'wpbridge_api_key', $wpb_key );
	update_site_option( 'wpbridge_api_secret', $wpb_secret );
}

// 3. Extra sites (no customer, no membership): /site2/ ... /siteN/, or siteN.DOMAIN/ on a subdomain network.
$wpb_subdomains = is_subdomain_install();
$wpb_sites = array(
	array(
		'blog_id' => 1,
		'domain'  => $wpb_domain,
		'path'    => '/',
		'url'     => get_home_url( 1, '/' ),
	),
);
for ( $wpb_i = 2; $wpb_i <= $wpb_nsites; $wpb_i++ ) {
	$wpb_host = $wpb_subdomains ? "site$wpb_i.$wpb_domain" : $wpb_domain;
	$wpb_path = $wpb_subdomains ? '/' : "/site$wpb_i/";
	$wpb_id   = domain_exists( $wpb_host, $wpb_path, 1 );
	if ( ! $wpb_id ) {
		$wpb_id = wpmu_create_blog( $wpb_host, $wpb_path, "Site $wpb_i", $wpb_admin->ID, array( 'public' => 1 ), 1 );
		if ( is_wp_error( $wpb_id ) ) {
			wpbridge_sandbox_fail( 5, "wpmu_create_blog($wpb_path) failed: " . $wpb_id->get_error_message() );
		}
	}
	$wpb_sites[] = array(
		'blog_id' => (int) $wpb_id,
		'domain'  => $wpb_host,
		'path'    => $wpb_path,
		'url'     => get_home_url( $wpb_id, '/' ),
	);
}

// 4. Application Password (needs WP_ENVIRONMENT_TYPE=local over plain http).
$wpb_created = WP_Application_Passwords::create_new_application_password( $wpb_admin->ID, array( 'name' => $wpb_appname ) );
if ( is_wp_error( $wpb_created ) ) {
	wpbridge_sandbox_fail( 6, 'create_new_application_password failed: ' . $wpb_created->get_error_message() );
}
list( $wpb_app_password, $wpb_item ) = $wpb_created;

echo json_encode(
	array(
		'url'               => 'http://' . $wpb_domain,
		'user'              => $wpb_user,
		'user_id'           => $wpb_admin->ID,
		'app_password'      => $wpb_app_password,
		'app_password_uuid' => $wpb_item['uuid'],
		'sites'             => $wpb_sites,
		'plugin'            => $wpb_plugin,
		'wp_version'        => get_bloginfo( 'version' ),
		'php_version'       => PHP_VERSION,
	),
	JSON_UNESCAPED_SLASHES
), "\n";
