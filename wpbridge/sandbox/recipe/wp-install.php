<?php
/*
 * Phase 1: install a single-site WordPress, then create the multisite tables
 * (install_network + populate_network), like `wp core multisite-install` does.
 * Run by wpbridge/sandbox/runner.py with the PHP CLI (configuration comes from the environment):
 *   WP_DOCROOT  the WordPress copy (has our wp-config.php)
 *   WP_DOMAIN   host[:port] clients will use, e.g. 127.0.0.1:8080 (baked into the DB)
 *   WP_TITLE, WP_ADMIN_USER, WP_ADMIN_PASSWORD, WP_ADMIN_EMAIL
 * Afterwards the caller adds the MULTISITE constants (wp-config-multisite.php).
 */
if ( PHP_SAPI !== 'cli' ) {
	exit( 1 );
}
function env_or_die( $name ) {
	$v = getenv( $name );
	if ( false === $v || '' === $v ) {
		fwrite( STDERR, "wp-install.php: missing env $name\n" );
		exit( 2 );
	}
	return $v;
}
$docroot  = rtrim( env_or_die( 'WP_DOCROOT' ), '/' );
$domain   = env_or_die( 'WP_DOMAIN' );
$title    = env_or_die( 'WP_TITLE' );
$user     = env_or_die( 'WP_ADMIN_USER' );
$password = env_or_die( 'WP_ADMIN_PASSWORD' );
$email    = env_or_die( 'WP_ADMIN_EMAIL' );

require __DIR__ . '/cli-request.php';
wpbridge_fake_request( $domain, $docroot );

define( 'WP_INSTALLING', true );
require $docroot . '/wp-load.php';
require_once ABSPATH . 'wp-admin/includes/upgrade.php'; // wp_install(), schema.php (install_network, populate_network)

if ( is_multisite() ) {
	fwrite( STDERR, "wp-install.php: already a multisite\n" );
	exit( 3 );
}
if ( is_blog_installed() ) {
	fwrite( STDERR, "wp-install.php: WordPress is already installed in this database\n" );
	exit( 3 );
}

// wp_install() tests pretty permalinks with a loopback request. The sandbox's web server already listens (it
// holds the port from the start), so that request would hit a half-installed site and cost about a second;
// refuse it, as when no server runs: populate_network() sets the permalink structure afterwards anyway.
add_filter(
	'pre_http_request',
	function () {
		return new WP_Error( 'wpbridge_sandbox_install', 'No HTTP requests while installing.' );
	}
);
$result = wp_install( $title, $user, $email, true, '', $password );
if ( is_wp_error( $result ) || empty( $result['user_id'] ) ) {
	fwrite( STDERR, 'wp_install failed: ' . print_r( $result, true ) . "\n" );
	exit( 4 );
}
$url = 'http://' . $domain;
update_option( 'siteurl', $url );
update_option( 'home', $url );

// --- convert to a subdirectory (or subdomain) multisite (what `wp core multisite-convert` does) ---
global $wpdb;
foreach ( $wpdb->tables( 'ms_global' ) as $table => $prefixed_table ) {
	$wpdb->$table = $prefixed_table; // not registered while MULTISITE is off
}
install_network();
// WP_SUBDOMAINS=1: a subdomain network (sandbox up --subdomains); populate_network() then checks wildcard DNS
// with a request to a random host, refused above: its 'no_wildcard_dns' warning is expected (the install is done;
// the sandbox checks that site hosts resolve itself, sandbox/names.py).
$subdomains = '1' === getenv( 'WP_SUBDOMAINS' );
$r          = populate_network( 1, $domain, $email, $title . ' Network', '/', $subdomains );
if ( $subdomains && is_wp_error( $r ) && 'no_wildcard_dns' === $r->get_error_code() ) {
	$r = true;
}
if ( true !== $r ) {
	fwrite( STDERR, 'populate_network failed: ' . ( is_wp_error( $r ) ? $r->get_error_message() : print_r( $r, true ) ) . "\n" );
	exit( 5 );
}
// Network option: no upload quota checks (wp-cli does the same).
$wpdb->replace( $wpdb->sitemeta, array( 'site_id' => 1, 'meta_key' => 'upload_space_check_disabled', 'meta_value' => '1' ) );

echo json_encode( array( 'installed' => true, 'user_id' => $result['user_id'], 'url' => $url ) ), "\n";
