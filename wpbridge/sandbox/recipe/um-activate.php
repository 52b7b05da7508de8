<?php
/*
 * The UM flavor's install phases, run by wpbridge/sandbox/runner.py with the PHP CLI after wp-network.php, the way
 * Ultimate Multisite's own setup wizard would leave a network (two boots, because UM loads nothing on the boot
 * that activates it):
 *   UM_PHASE=activate : network-activates ultimate-multisite/ultimate-multisite.php (plugin-stub stays active and
 *                       switches to UM mode by itself), marks the setup wizard finished (network option
 *                       wu_setup_finished) and saves the API settings enable_api, api_key, api_secret with
 *                       wu_save_setting() (network option wp-ultimo_v2_settings);
 *   UM_PHASE=install  : creates UM's tables through its Table_Loader, as Core_Installer does; UM's Table::exists()
 *                       caches its first answer, so BerlinDB's own exists() is asked after installing.
 * Prints one JSON object. Secrets come from the environment (UM_API_KEY, UM_API_SECRET), never from argv.
 */
if ( PHP_SAPI !== 'cli' ) {
	exit( 1 );
}
function wpbridge_um_fail( $code, $message ) {
	fwrite( STDERR, "um-activate.php: $message\n" );
	exit( $code );
}
$wpb_docroot = rtrim( (string) getenv( 'WP_DOCROOT' ), '/' );
$wpb_domain  = (string) getenv( 'WP_DOMAIN' );
$wpb_phase   = (string) getenv( 'UM_PHASE' );
$wpb_plugin  = (string) getenv( 'UM_PLUGIN' );

require __DIR__ . '/cli-request.php';
wpbridge_fake_request( $wpb_domain, $wpb_docroot );
require $wpb_docroot . '/wp-load.php';
require_once ABSPATH . 'wp-admin/includes/plugin.php';

$wpb_admin = get_user_by( 'login', (string) getenv( 'WP_ADMIN_USER' ) );
if ( ! $wpb_admin ) {
	wpbridge_um_fail( 3, 'no admin user' );
}
wp_set_current_user( $wpb_admin->ID );
$wpb_out = array( 'phase' => $wpb_phase );

if ( 'activate' === $wpb_phase ) {
	$wpb_r = activate_plugin( $wpb_plugin, '', true );
	if ( is_wp_error( $wpb_r ) ) {
		wpbridge_um_fail( 4, "activate_plugin($wpb_plugin) failed: " . $wpb_r->get_error_code() . ': ' . $wpb_r->get_error_message() );
	}
	if ( ! is_plugin_active_for_network( $wpb_plugin ) ) {
		wpbridge_um_fail( 4, "$wpb_plugin is not network-active after activate_plugin()" );
	}
	if ( ! function_exists( 'wu_save_setting' ) ) {
		wpbridge_um_fail( 4, 'wu_save_setting() is not defined: is this Ultimate Multisite?' );
	}
	update_network_option( null, 'wu_setup_finished', true );
	wu_save_setting( 'enable_api', true );
	wu_save_setting( 'api_key', (string) getenv( 'UM_API_KEY' ) );
	wu_save_setting( 'api_secret', (string) getenv( 'UM_API_SECRET' ) );
	$wpb_out['active_sitewide_plugins'] = array_keys( (array) get_site_option( 'active_sitewide_plugins', array() ) );
} elseif ( 'install' === $wpb_phase ) {
	if ( ! function_exists( 'WP_Ultimo' ) || ! WP_Ultimo()->is_loaded() ) {
		wpbridge_um_fail( 5, 'Ultimate Multisite did not load after activation (requirements not met? see the PHP log)' );
	}
	$wpb_tables = \WP_Ultimo\Loaders\Table_Loader::get_instance()->get_tables();
	$wpb_exists = new ReflectionMethod( \BerlinDB\Database\Table::class, 'exists' );
	$wpb_ok     = true;
	foreach ( $wpb_tables as $wpb_name => $wpb_table ) {
		if ( ! $wpb_exists->invoke( $wpb_table ) ) {
			$wpb_table->install();
		}
		if ( ! $wpb_exists->invoke( $wpb_table ) ) {
			$wpb_ok                    = false;
			$wpb_out['missing'][] = $wpb_name;
		}
	}
	if ( ! $wpb_ok ) {
		wpbridge_um_fail( 6, 'UM tables not created: ' . implode( ', ', $wpb_out['missing'] ) );
	}
	if ( wu_get_setting( 'api_key' ) !== getenv( 'UM_API_KEY' ) || ! wu_get_setting( 'enable_api' ) ) {
		wpbridge_um_fail( 6, 'UM API settings did not persist' );
	}
	$wpb_out['tables']     = count( $wpb_tables );
	$wpb_out['um_version'] = \WP_Ultimo::VERSION;
	$wpb_out['currency']   = wu_get_setting( 'currency_symbol' );
} else {
	wpbridge_um_fail( 2, "UM_PHASE must be activate or install, got '$wpb_phase'" );
}
echo wp_json_encode( $wpb_out ), "\n";
