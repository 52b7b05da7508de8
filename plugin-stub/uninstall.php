<?php
/**
 * Run by WordPress when the plugin is deleted (never on deactivation): removes everything the plugin keeps on the
 * network, as listed in includes/registry.php: its tables ({$wpdb->base_prefix}wpbridge_*, the import keys
 * included), its network options (the API credentials included) and its site meta of every site. A site suspended
 * in UM mode first gets back the UM override it had before the suspension, so it does not keep the suspended limits.
 * Kept on purpose: the daily visit counts `wu_visits_*` (Ultimate Multisite's own meta keys, which UM may share) and
 * UM's own records (payments made by wpbridge stay UM payments, with their `wpbridge_change` meta).
 *
 * @package WPBridge
 */

if ( ! defined( 'WP_UNINSTALL_PLUGIN' ) ) {
	exit;
}

require_once __DIR__ . '/includes/registry.php';

WPBridge\remove_everything();
