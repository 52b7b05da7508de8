<?php
/**
 * Shared by the plugin's command-line tools (activate.php, key.php), which run through WordPress's own bootstrap
 * where WP-CLI is not installed (Debian 12 has no WP-CLI package): the arguments, and the fake request to the
 * network's main site that wp-load.php needs. The tool itself then requires wp-load.php at the top level (WordPress
 * must load in the global scope).
 *
 * @package WPBridge
 */

if ( PHP_SAPI !== 'cli' ) {
	exit( 1 );
}

/** `[options, positionals]` of argv: `--name=value` options, everything else positional. */
function wpbridge_tool_args( array $argv ): array {
	$options     = array();
	$positionals = array();
	foreach ( array_slice( $argv, 1 ) as $a ) {
		if ( preg_match( '/^--([a-z\-]+)=(.*)$/s', $a, $m ) ) {
			$options[ $m[1] ] = $m[2];
		} else {
			$positionals[] = $a;
		}
	}
	return array( $options, $positionals );
}

/** The network's domain: --domain, else DOMAIN_CURRENT_SITE in DOCROOT/wp-config*.php; null when neither says. */
function wpbridge_tool_domain( string $docroot, ?string $given ): ?string {
	if ( null !== $given ) {
		return $given;
	}
	$domain = null;
	foreach ( glob( "$docroot/wp-config*.php" ) as $config ) {
		if ( preg_match( "/define\(\s*['\"]DOMAIN_CURRENT_SITE['\"]\s*,\s*['\"]([^'\"]+)['\"]/", (string) file_get_contents( $config ), $m ) ) {
			$domain = $m[1];
		}
	}
	return $domain;
}

/** Boot WordPress as a request to the network's main site: what $_SERVER must hold before wp-load.php. */
function wpbridge_tool_fake_request( string $docroot, string $domain ): void {
	$_SERVER['HTTP_HOST']       = $domain;
	$_SERVER['SERVER_NAME']     = preg_replace( '/:\d+$/', '', $domain );
	$_SERVER['SERVER_PORT']     = preg_match( '/:(\d+)$/', $domain, $pm ) ? $pm[1] : '80';
	$_SERVER['REQUEST_URI']     = '/';
	$_SERVER['REQUEST_METHOD']  = 'GET';
	$_SERVER['SERVER_PROTOCOL'] = 'HTTP/1.1';
	$_SERVER['PHP_SELF']        = '/index.php';
	$_SERVER['SCRIPT_NAME']     = '/index.php';
	$_SERVER['SCRIPT_FILENAME'] = $docroot . '/index.php';
}

/** The plugin's basename (`DIR/MAIN.php`) from where this file is: `wpbridge/wpbridge.php` from the release zip. */
function wpbridge_tool_plugin(): string {
	$dir = dirname( __DIR__ );
	foreach ( glob( $dir . '/*.php' ) as $php ) {
		if ( str_contains( (string) file_get_contents( $php, false, null, 0, 8192 ), 'Plugin Name:' ) ) {
			return basename( $dir ) . '/' . basename( $php );
		}
	}
	return 'wpbridge-stub/wpbridge-stub.php';
}
