<?php
/**
 * Plugin Name: wpbridge
 * Description: The WordPress side of wpbridge. Serves Ultimate Multisite's `wu/v2` REST subset from its own tables
 *              when Ultimate Multisite is not active (stub mode), the `wpbridge/v1` companion routes in both modes,
 *              and enforces each site's quota with WordPress's own hooks. Contract: README.md next to this file.
 * Version: 0.1.0
 * Requires at least: 6.1
 * Requires PHP: 8.2
 * Network: true
 * License: GPL-2.0-or-later
 * License URI: https://www.gnu.org/licenses/gpl-2.0.html
 * Text Domain: wpbridge-stub
 */

namespace WPBridge;

if ( ! defined( 'ABSPATH' ) ) {
	exit;
}

const VERSION    = '0.1.0';
const DB_VERSION = 4; // Bump with a migration step in includes/db.php::install().

const PLUGIN_FILE = __FILE__;

require_once __DIR__ . '/includes/registry.php';
require_once __DIR__ . '/includes/util.php';
require_once __DIR__ . '/includes/db.php';
require_once __DIR__ . '/includes/auth.php';
require_once __DIR__ . '/includes/keys.php';
require_once __DIR__ . '/includes/limitations.php';
require_once __DIR__ . '/includes/entities.php';
require_once __DIR__ . '/includes/crud.php';
require_once __DIR__ . '/includes/sites.php';
require_once __DIR__ . '/includes/usage.php';
require_once __DIR__ . '/includes/quota.php';
require_once __DIR__ . '/includes/companion.php';
require_once __DIR__ . '/includes/guard.php';
require_once __DIR__ . '/includes/schema.php';
require_once __DIR__ . '/includes/enforce.php';
require_once __DIR__ . '/includes/um.php';
require_once __DIR__ . '/includes/import.php';
require_once __DIR__ . '/includes/um-sites.php';
require_once __DIR__ . '/includes/um-swap.php';
require_once __DIR__ . '/includes/um-addon-removal.php';
require_once __DIR__ . '/includes/payments.php';
require_once __DIR__ . '/includes/taxes.php';
require_once __DIR__ . '/includes/discount-codes.php';
require_once __DIR__ . '/includes/import-payments.php';
require_once __DIR__ . '/includes/import-um.php';
require_once __DIR__ . '/includes/stores.php';
require_once __DIR__ . '/includes/stores-stub.php';
require_once __DIR__ . '/includes/stores-um.php';

register_activation_hook( __FILE__, __NAMESPACE__ . '\\install' );

add_action(
	'init',
	function () {
		load_plugin_textdomain( 'wpbridge-stub', false, dirname( plugin_basename( PLUGIN_FILE ) ) . '/languages' );
	}
);

add_action(
	'plugins_loaded',
	function () {
		maybe_upgrade();
		add_action( 'rest_api_init', __NAMESPACE__ . '\\register_routes' );
		add_filter( 'rest_authentication_errors', __NAMESPACE__ . '\\bypass_core_auth_errors', 89 );
		guard_hooks();
		keys_screen_hooks();
		schema_hooks();
		flavor()->limits->hooks(); // Stub mode: the enforcement of quotas.
	},
	20
);

/** Every route, each given the stores of the network's flavor, picked here once: the routes never look at the mode. */
function register_routes(): void {
	$flavor = flavor();
	if ( $flavor->serves_wu_v2() ) {
		register_wu_routes();
		register_site_routes( $flavor->sites );
	}
	register_companion_routes( $flavor );
	register_import_routes( $flavor );
	register_import_payment_routes( $flavor );
	register_payment_routes( $flavor->payments );
	register_tax_routes( tax_store( $flavor ) );
	register_discount_code_routes( discount_code_store( $flavor ) );
}
