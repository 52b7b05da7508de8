<?php
/**
 * The API key pair from the command line through WordPress's own bootstrap, for servers without WP-CLI (with
 * WP-CLI: `wp wpbridge key set|rotate|show-fingerprint`, the same actions). The plugin must be network-active.
 *
 *   php key.php DOCROOT show-fingerprint       the key and the secret's fingerprint (never the secret)
 *   php key.php DOCROOT rotate                 a new random pair, stored at once; prints the secret this once
 *   php key.php DOCROOT set --key=KEY          the secret from $WPBRIDGE_API_SECRET, else one line on stdin
 *   [--domain=HOST[:PORT]]                     when DOCROOT/wp-config*.php has no DOMAIN_CURRENT_SITE
 *
 * Prints one JSON line. Exit codes: 0 ok, 2 usage or a refused key, 3 WordPress did not boot as a multisite,
 * 4 the plugin is not network-active.
 *
 * @package WPBridge
 */

require __DIR__ . '/boot.php';

list( $wpb_args, $wpb_pos ) = wpbridge_tool_args( $argv );
$wpb_actions                = array( 'show-fingerprint', 'rotate', 'set' );
if ( count( $wpb_pos ) !== 2 || ! in_array( $wpb_pos[1], $wpb_actions, true ) || ! is_file( rtrim( $wpb_pos[0], '/' ) . '/wp-load.php' ) ) {
	fwrite( STDERR, "usage: php key.php DOCROOT show-fingerprint|rotate|set [--key=KEY] [--domain=HOST[:PORT]]\n" );
	exit( 2 );
}
$wpb_docroot = rtrim( $wpb_pos[0], '/' );
$wpb_action  = $wpb_pos[1];
$wpb_domain  = wpbridge_tool_domain( $wpb_docroot, $wpb_args['domain'] ?? null );
if ( null === $wpb_domain ) {
	fwrite( STDERR, "key.php: no DOMAIN_CURRENT_SITE in $wpb_docroot/wp-config*.php; pass --domain=HOST[:PORT]\n" );
	exit( 2 );
}
if ( 'set' === $wpb_action && ! isset( $wpb_args['key'] ) ) {
	fwrite( STDERR, "key.php: set needs --key=KEY (the secret comes from \$WPBRIDGE_API_SECRET or stdin)\n" );
	exit( 2 );
}
wpbridge_tool_fake_request( $wpb_docroot, $wpb_domain );

require $wpb_docroot . '/wp-load.php';
require_once ABSPATH . 'wp-admin/includes/plugin.php';

if ( ! is_multisite() ) {
	fwrite( STDERR, "key.php: WordPress did not boot as a multisite\n" );
	exit( 3 );
}
if ( ! function_exists( 'WPBridge\\key_status' ) ) {
	fwrite( STDERR, 'key.php: wpbridge is not network-active here (network-activate ' . wpbridge_tool_plugin() . " first)\n" );
	exit( 4 );
}

if ( 'rotate' === $wpb_action ) {
	$wpb_pair = \WPBridge\key_rotate();
	echo wp_json_encode(
		array(
			'api_key'     => $wpb_pair['key'],
			'api_secret'  => $wpb_pair['secret'],
			'fingerprint' => $wpb_pair['fingerprint'],
		)
	), "\n";
	exit( 0 );
}
if ( 'set' === $wpb_action ) {
	$wpb_secret = getenv( 'WPBRIDGE_API_SECRET' );
	if ( false === $wpb_secret || '' === $wpb_secret ) {
		$wpb_secret = rtrim( (string) fgets( STDIN ), "\r\n" );
	}
	$wpb_done = \WPBridge\key_set( (string) $wpb_args['key'], $wpb_secret );
	if ( is_wp_error( $wpb_done ) ) {
		fwrite( STDERR, 'key.php: ' . $wpb_done->get_error_message() . "\n" );
		exit( 2 );
	}
}
$wpb_status = \WPBridge\key_status();
echo wp_json_encode(
	array(
		'mode'        => $wpb_status['mode'],
		'api_key'     => $wpb_status['key'],
		'fingerprint' => $wpb_status['fingerprint'],
		'set'         => $wpb_status['set'],
		'um_key_set'  => $wpb_status['um_key_set'],
	)
), "\n";
