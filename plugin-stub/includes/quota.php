<?php
/**
 * A site's effective quota: UM's `wu_limitations` structure stored as JSON in blogmeta `wpbridge_quota` (JSON keeps
 * `{}` apart from `[]`), written only through `PUT /wpbridge/v1/sites/{id}/quota` (absolute, idempotent) and read
 * by the enforcement hooks. No row = the site is not limited.
 */

namespace WPBridge;

if ( ! defined( 'ABSPATH' ) ) {
	exit;
}

const QUOTA_META = 'wpbridge_quota';

/**
 * The stored quota of a blog, or null when none was written. Read through the site-meta API, so a persistent
 * object cache serves the enforcement hooks on every front-end request without a query.
 */
function quota( int $blog_id ): ?array {
	$cache = &quota_cache();
	if ( ! array_key_exists( $blog_id, $cache ) ) {
		$raw               = get_site_meta( $blog_id, QUOTA_META, true );
		$cache[ $blog_id ] = is_string( $raw ) && '' !== $raw ? json_in( $raw, array() ) : null;
	}
	return $cache[ $blog_id ];
}

function &quota_cache(): array {
	static $cache = array();
	return $cache;
}

/**
 * Replace the blog's quota with `$limitations` (already validated). Site meta has no unique key, so two first
 * writes at once could add two rows: the write runs under a per-blog GET_LOCK, whose result is checked (503
 * `wpbridge_busy` when it cannot be had within 10 s; nothing is written then).
 */
function put_quota( int $blog_id, array $limitations ): ?\WP_Error {
	global $wpdb;
	$json = json_out( limitations_out( $limitations ) );
	$lock = 'wpbridge_quota_' . $blog_id;
	if ( '1' !== (string) $wpdb->get_var( $wpdb->prepare( 'SELECT GET_LOCK(%s, 10)', $lock ) ) ) {
		/* translators: %d: a site id. */
		return error( 'wpbridge_busy', sprintf( __( 'The quota of site %d is being written by another request; try again.', 'wpbridge-stub' ), $blog_id ), 503 );
	}
	update_site_meta( $blog_id, QUOTA_META, wp_slash( $json ) ); // The meta API unslashes; JSON keeps its backslashes.
	$wpdb->query( $wpdb->prepare( 'SELECT RELEASE_LOCK(%s)', $lock ) );
	quota_cache()[ $blog_id ] = json_in( $json, array() );
	return null;
}

function delete_quota( int $blog_id ): void {
	delete_site_meta( $blog_id, QUOTA_META );
	quota_cache()[ $blog_id ] = null;
}

/** Stored quotas of many blogs (null for none): one query primes the site-meta cache for all of them. */
function quotas_for( array $blog_ids ): array {
	$blog_ids = array_map( 'intval', $blog_ids );
	$out      = array_fill_keys( $blog_ids, null );
	if ( ! $blog_ids ) {
		return $out;
	}
	update_sitemeta_cache( $blog_ids );
	foreach ( $blog_ids as $id ) {
		$raw        = get_site_meta( $id, QUOTA_META, true );
		$out[ $id ] = is_string( $raw ) && '' !== $raw ? json_in( $raw, array() ) : null;
	}
	return $out;
}

/**
 * Whether a quota write (PUT or DELETE) of a site is refused before anything is stored: the filter
 * `wpbridge_quota_write_refusal` may return a WP_Error (its status is the reply's). Used by the sandbox's test-mode
 * must-use plugin to inject failures; nothing in plugin-stub refuses a write this way.
 */
function quota_write_refusal( int $blog_id ): ?\WP_Error {
	$refusal = apply_filters( 'wpbridge_quota_write_refusal', null, $blog_id );
	return is_wp_error( $refusal ) ? $refusal : null;
}
