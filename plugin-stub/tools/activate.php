<?php
/**
 * Network-activate wpbridge on a multisite from the command line (no WP-CLI on Debian 12), create its tables,
 * and optionally set the API credentials. Idempotent.
 *
 *   php activate.php DOCROOT [--plugin=wpbridge/wpbridge.php] [--domain=127.0.0.1:8081]
 *                            [--api-key=KEY --api-secret=SECRET] [--allow-query-auth=0|1]
 *
 * DOCROOT is the WordPress directory (with wp-load.php); the plugin must already be in DOCROOT/wp-content/plugins/
 * (unzipped from dist/wpbridge.zip). --plugin defaults to the plugin this file belongs to (its directory and main
 * file). The API pair is better set with key.php (its secret stays out of the process list). The network domain
 * is read from DOMAIN_CURRENT_SITE in DOCROOT/wp-config*.php unless --domain is given. Credentials may also come from the environment
 * (WPBRIDGE_API_KEY, WPBRIDGE_API_SECRET) so that they stay out of the process list.
 * Prints one JSON line: {"plugin","network_active","db_version","mode","credentials_set"} (never the secrets).
 * Exit codes: 0 ok, 2 usage, 3 WordPress did not boot as a multisite, 4 activation failed.
 */

require __DIR__ . '/boot.php';

list( $wpb_args, $wpb_pos ) = wpbridge_tool_args( $argv );
if ( count( $wpb_pos ) !== 1 || ! is_file( rtrim( $wpb_pos[0], '/' ) . '/wp-load.php' ) ) {
	fwrite( STDERR, "usage: php activate.php DOCROOT [--plugin=...] [--domain=...] [--api-key=... --api-secret=...]\n" );
	exit( 2 );
}
$wpb_docroot = rtrim( $wpb_pos[0], '/' );
$wpb_plugin  = $wpb_args['plugin'] ?? wpbridge_tool_plugin();
$wpb_domain  = wpbridge_tool_domain( $wpb_docroot, $wpb_args['domain'] ?? null );
if ( null === $wpb_domain ) {
	fwrite( STDERR, "activate.php: no DOMAIN_CURRENT_SITE in $wpb_docroot/wp-config*.php; pass --domain=HOST[:PORT]\n" );
	exit( 2 );
}
wpbridge_tool_fake_request( $wpb_docroot, $wpb_domain );

require $wpb_docroot . '/wp-load.php';
require_once ABSPATH . 'wp-admin/includes/plugin.php';

if ( ! is_multisite() ) {
	fwrite( STDERR, "activate.php: WordPress did not boot as a multisite\n" );
	exit( 3 );
}

if ( ! is_plugin_active_for_network( $wpb_plugin ) ) {
	$wpb_result = activate_plugin( $wpb_plugin, '', true );
	if ( is_wp_error( $wpb_result ) ) {
		fwrite( STDERR, 'activate.php: activation failed: ' . $wpb_result->get_error_message() . "\n" );
		exit( 4 );
	}
}
// The activation hook ran install(); run it again in case the plugin was already active (idempotent).
\WPBridge\install();

$wpb_key    = $wpb_args['api-key'] ?? getenv( 'WPBRIDGE_API_KEY' ) ?: null;
$wpb_secret = $wpb_args['api-secret'] ?? getenv( 'WPBRIDGE_API_SECRET' ) ?: null;
if ( ( null === $wpb_key ) !== ( null === $wpb_secret ) ) {
	fwrite( STDERR, "activate.php: give both --api-key and --api-secret, or neither\n" );
	exit( 2 );
}
if ( null !== $wpb_key ) {
	update_site_option( 'wpbridge_api_key', $wpb_key );
	update_site_option( 'wpbridge_api_secret', $wpb_secret );
}
if ( isset( $wpb_args['allow-query-auth'] ) ) {
	update_site_option( 'wpbridge_allow_query_auth', (bool) (int) $wpb_args['allow-query-auth'] );
}

echo wp_json_encode(
	array(
		'plugin'          => $wpb_plugin,
		'network_active'  => is_plugin_active_for_network( $wpb_plugin ),
		'db_version'      => (int) get_site_option( 'wpbridge_db_version' ),
		'mode'            => \WPBridge\flavor()->name,
		'credentials_set' => '' !== (string) get_site_option( 'wpbridge_api_key', '' ) && '' !== (string) get_site_option( 'wpbridge_api_secret', '' ),
	)
), "\n";
