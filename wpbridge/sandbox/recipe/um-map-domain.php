<?php
/*
 * A mapped domain on one UM site of a subdomain sandbox (`sandbox up --subdomains --flavor ultimate-multisite`):
 * Ultimate Multisite's own Domain record (wu_create_domain: active, primary, stage done) for the site at
 * UM_MAP_SITE.DOMAIN, UM's setting enable_domain_mapping on (its sunrise reads it) and UM's sunrise marked active
 * (the network option wu_sunrise_meta, as UM's activation writes it), so that UM's sunrise.php (copied to
 * wp-content, SUNRISE defined by the sandbox) maps the host to the site.
 *   env: WP_DOCROOT, WP_DOMAIN, WP_ADMIN_USER, UM_MAP_SITE (the site's label), UM_MAP_DOMAIN (the mapped host)
 * Prints one JSON object: {domain, blog_id, domain_id}.
 */
if ( PHP_SAPI !== 'cli' ) {
	exit( 1 );
}
function wpbridge_map_fail( $message ) {
	fwrite( STDERR, "um-map-domain.php: $message\n" );
	exit( 4 );
}
$wpb_docroot = rtrim( (string) getenv( 'WP_DOCROOT' ), '/' );
$wpb_domain  = (string) getenv( 'WP_DOMAIN' );
require __DIR__ . '/cli-request.php';
wpbridge_fake_request( $wpb_domain, $wpb_docroot );
require $wpb_docroot . '/wp-load.php';

if ( ! function_exists( 'wu_create_domain' ) ) {
	wpbridge_map_fail( 'Ultimate Multisite is not loaded' );
}
wp_set_current_user( get_user_by( 'login', (string) getenv( 'WP_ADMIN_USER' ) )->ID );
$wpb_blog = get_blog_id_from_url( getenv( 'UM_MAP_SITE' ) . '.' . $wpb_domain, '/' );
if ( ! $wpb_blog ) {
	wpbridge_map_fail( 'no site ' . getenv( 'UM_MAP_SITE' ) . '.' . $wpb_domain );
}
$wpb_mapped = wu_create_domain(
	array(
		'blog_id'        => $wpb_blog,
		'domain'         => (string) getenv( 'UM_MAP_DOMAIN' ),
		'active'         => true,
		'primary_domain' => true,
		'secure'         => false,
		'stage'          => 'done',
	)
);
if ( is_wp_error( $wpb_mapped ) ) {
	wpbridge_map_fail( $wpb_mapped->get_error_code() . ': ' . $wpb_mapped->get_error_message() );
}
wu_save_setting( 'enable_domain_mapping', true ); // read by UM's sunrise (Domain_Mapping::init)
$wpb_meta           = get_network_option( null, 'wu_sunrise_meta', array() );
$wpb_meta           = is_array( $wpb_meta ) ? $wpb_meta : array();
$wpb_meta['active'] = true;
update_network_option( null, 'wu_sunrise_meta', $wpb_meta );
echo wp_json_encode(
	array(
		'domain'    => $wpb_mapped->get_domain(),
		'blog_id'   => (int) $wpb_blog,
		'domain_id' => (int) $wpb_mapped->get_id(),
	)
);
