<?php
/**
 * Plugin Name: wpbridge sandbox: injected failures of plugin-stub's quota writes (must-use, test mode only)
 * Description: The route `/wpbridge/v1/test/faults`, registered only when WPBRIDGE_TEST_MODE is defined, makes every
 *              quota write (PUT and DELETE, single or in a batch) of the sites it names fail with a chosen status,
 *              so tests can see what wpbridge does when a write fails half-way.
 *
 * Installed by the sandbox in test mode only (wpbridge/sandbox/wordpress.py, write_config); never part of
 * plugin-stub, which only offers the filter `wpbridge_quota_write_refusal` this file hooks. The routes go through
 * plugin-stub's own `route()`, so they take the same credentials and answer errors in the same shape:
 *   - `PUT /wpbridge/v1/test/faults` `{"fail_quota_blog_ids":[3,5],"status":500}`: those sites' quota writes fail
 *     with that status (400..599, default 500) and code `wpbridge_test_fault`, after validation and before anything
 *     is stored; `[]` switches it off. Returns the stored setting (network option `wpbridge_test_faults`).
 *   - `GET /wpbridge/v1/test/faults`: the current setting.
 *   - `PUT /wpbridge/v1/test/clock` `{"offset_ms": 1500}`: plugin-stub's lock clock (the filter `wpbridge_now_ms`)
 *     runs that far ahead (0 puts it back), so a test sees a lock lapse without sleeping. Returns the setting.
 */

if ( ! defined( 'ABSPATH' ) ) {
	exit;
}
if ( ! defined( 'WPBRIDGE_TEST_MODE' ) || ! WPBRIDGE_TEST_MODE ) {
	return;
}

const WPBRIDGE_TEST_FAULTS = 'wpbridge_test_faults';

/**
 * The stored setting.
 *
 * @return array
 */
function wpbridge_test_faults() {
	$faults = get_site_option( WPBRIDGE_TEST_FAULTS, array() );
	return array(
		'fail_quota_blog_ids' => is_array( $faults ) ? (array) ( $faults['fail_quota_blog_ids'] ?? array() ) : array(),
		'status'              => is_array( $faults ) ? (int) ( $faults['status'] ?? 500 ) : 500,
	);
}

add_filter(
	'wpbridge_quota_write_refusal',
	function ( $refusal, $blog_id ) {
		$faults = wpbridge_test_faults();
		if ( null !== $refusal || ! in_array( (int) $blog_id, $faults['fail_quota_blog_ids'], true ) ) {
			return $refusal;
		}
		return new WP_Error(
			'wpbridge_test_fault',
			sprintf( 'Injected failure for the quota of site %d (test mode).', $blog_id ),
			array( 'status' => $faults['status'] )
		);
	},
	10,
	2
);

const WPBRIDGE_TEST_CLOCK = 'wpbridge_test_clock_offset_ms';

add_filter(
	'wpbridge_now_ms',
	function ( $now_ms ) {
		return (int) $now_ms + (int) get_site_option( WPBRIDGE_TEST_CLOCK, 0 );
	}
);

add_action(
	'rest_api_init',
	function () {
		if ( ! function_exists( 'WPBridge\\route' ) ) {
			return; // plugin-stub is not active.
		}
		WPBridge\route(
			'/test/faults',
			array(
				array(
					'methods'  => 'GET',
					'callback' => 'wpbridge_test_faults',
				),
				array(
					'methods'  => 'PUT',
					'callback' => function ( WP_REST_Request $request ) {
						$body   = WPBridge\body( $request );
						$faults = array(
							'fail_quota_blog_ids' => WPBridge\to_id_list( $body['fail_quota_blog_ids'] ?? array(), 'fail_quota_blog_ids' ),
							'status'              => WPBridge\to_int( $body['status'] ?? 500, 'status', 400, 599 ),
						);
						update_site_option( WPBRIDGE_TEST_FAULTS, $faults );
						return $faults;
					},
				),
			)
		);
		WPBridge\route(
			'/test/clock',
			array(
				array(
					'methods'  => 'PUT',
					'callback' => function ( WP_REST_Request $request ) {
						$offset = WPBridge\to_int( WPBridge\body( $request )['offset_ms'] ?? 0, 'offset_ms', -86400000, 86400000 );
						update_site_option( WPBRIDGE_TEST_CLOCK, $offset );
						return array( 'offset_ms' => $offset );
					},
				),
			)
		);
	}
);
