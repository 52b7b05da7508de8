<?php
/**
 * A site's effective quota: UM's `wu_limitations` structure stored as JSON in blogmeta `wpbridge_quota` (JSON keeps
 * `{}` apart from `[]`), written only through `PUT /wpbridge/v1/sites/{id}/quota` (absolute, idempotent) and read
 * by the enforcement hooks. No row = the site is not limited.
 */

namespace WPBridge;

const QUOTA_META = 'wpbridge_quota';

/** The stored quota of a blog, or null when none was written. Cached for the request. */
function quota( int $blog_id ): ?array {
	$cache = &quota_cache();
	if ( ! array_key_exists( $blog_id, $cache ) ) {
		global $wpdb;
		$raw                = $wpdb->get_var( $wpdb->prepare( "SELECT meta_value FROM {$wpdb->blogmeta} WHERE blog_id = %d AND meta_key = %s LIMIT 1", $blog_id, QUOTA_META ) );
		$cache[ $blog_id ] = null === $raw ? null : json_in( $raw, array() );
	}
	return $cache[ $blog_id ];
}

function &quota_cache(): array {
	static $cache = array();
	return $cache;
}

/**
 * Replace the blog's quota with `$limitations` (already validated). blogmeta has no unique key, so the upsert runs
 * under a per-blog GET_LOCK; the value itself is written by one statement (never a partial write).
 */
function put_quota( int $blog_id, array $limitations ): void {
	global $wpdb;
	$json = json_out( limitations_out( $limitations ) );
	$lock = 'wpbridge_quota_' . $blog_id;
	$wpdb->query( $wpdb->prepare( 'SELECT GET_LOCK(%s, 10)', $lock ) );
	$meta_id = $wpdb->get_var( $wpdb->prepare( "SELECT meta_id FROM {$wpdb->blogmeta} WHERE blog_id = %d AND meta_key = %s LIMIT 1", $blog_id, QUOTA_META ) );
	if ( $meta_id ) {
		$wpdb->update( $wpdb->blogmeta, array( 'meta_value' => $json ), array( 'meta_id' => (int) $meta_id ) );
	} else {
		$wpdb->insert( $wpdb->blogmeta, array( 'blog_id' => $blog_id, 'meta_key' => QUOTA_META, 'meta_value' => $json ) );
	}
	$wpdb->query( $wpdb->prepare( 'SELECT RELEASE_LOCK(%s)', $lock ) );
	wp_cache_delete( $blog_id, 'blog_meta' );
	quota_cache()[ $blog_id ] = json_in( $json, array() );
}

function delete_quota( int $blog_id ): void {
	global $wpdb;
	$wpdb->delete( $wpdb->blogmeta, array( 'blog_id' => $blog_id, 'meta_key' => QUOTA_META ) );
	wp_cache_delete( $blog_id, 'blog_meta' );
	quota_cache()[ $blog_id ] = null;
}

/** Stored quotas of many blogs (null for none), one query. */
function quotas_for( array $blog_ids ): array {
	global $wpdb;
	$out = array_fill_keys( $blog_ids, null );
	if ( ! $blog_ids ) {
		return $out;
	}
	$in = implode( ',', array_map( 'intval', $blog_ids ) );
	foreach ( $wpdb->get_results( $wpdb->prepare( "SELECT blog_id, meta_value FROM {$wpdb->blogmeta} WHERE meta_key = %s AND blog_id IN ($in)", QUOTA_META ), ARRAY_A ) as $r ) {
		$out[ (int) $r['blog_id'] ] = json_in( $r['meta_value'], array() );
	}
	return $out;
}

// ------------------------------------------------------------------------------------- test-only fault switch

/** Only when WPBRIDGE_TEST_MODE is defined: a quota write of these blogs fails with this status. */
function injected_fault( int $blog_id ): ?\WP_Error {
	if ( ! defined( 'WPBRIDGE_TEST_MODE' ) ) {
		return null;
	}
	$faults = get_site_option( 'wpbridge_test_faults', array() );
	if ( is_array( $faults ) && in_array( $blog_id, $faults['fail_quota_blog_ids'] ?? array(), true ) ) {
		return error( 'wpbridge_test_fault', "Injected failure for the quota of site $blog_id (test mode).", (int) $faults['status'] );
	}
	return null;
}
