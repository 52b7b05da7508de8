<?php
/*
 * Shared by the recipe's CLI phases (wp-install.php, wp-network.php): fake just enough of a web request for
 * wp-load.php, wp_guess_url() and wpmu_log_new_registrations() to work from the PHP CLI. The domain keeps its
 * port (host:port), which WordPress stores in the database.
 */
function wpbridge_fake_request( $domain, $docroot ) {
	$_SERVER['HTTP_HOST']       = $domain;
	$_SERVER['SERVER_NAME']     = preg_replace( '/:\d+$/', '', $domain );
	$_SERVER['SERVER_PORT']     = preg_match( '/:(\d+)$/', $domain, $m ) ? $m[1] : '80';
	$_SERVER['REQUEST_URI']     = '/';
	$_SERVER['REMOTE_ADDR']     = '127.0.0.1'; // read by wpmu_log_new_registrations()
	$_SERVER['REQUEST_METHOD']  = 'GET';
	$_SERVER['SERVER_PROTOCOL'] = 'HTTP/1.1';
	$_SERVER['PHP_SELF']        = '/index.php';
	$_SERVER['SCRIPT_NAME']     = '/index.php';
	$_SERVER['SCRIPT_FILENAME'] = $docroot . '/index.php';
}
