<?php
/**
 * What sites use now, for many sites per call with a fixed number of queries: posts per post type (publish +
 * private; attachments: inherit), users per role, visits this month (daily blogmeta `wu_visits_YYYYMMDD`, UM's
 * keys, GMT dates), custom domains, and disk used by the site's upload directory (WordPress's own get_dirsize,
 * cached by core). Custom domains come from the flavor's Site_Store. Also counts logged-out front-end visits (only
 * hooked in stub mode, by the enforcement: UM counts them itself in UM mode).
 */

namespace WPBridge;

if ( ! defined( 'ABSPATH' ) ) {
	exit;
}

/** Visible blog ids of this network among `$ids`, in the order given. */
function existing_blog_ids( array $ids ): array {
	global $wpdb;
	if ( ! $ids ) {
		return array();
	}
	$ids = array_map( 'intval', $ids );
	// phpcs:ignore WordPress.DB.PreparedSQL.InterpolatedNotPrepared -- an IN list of %d placeholders.
	$found = array_map( 'intval', $wpdb->get_col( $wpdb->prepare( "SELECT blog_id FROM {$wpdb->blogs} WHERE site_id = %d AND blog_id IN (" . placeholders( $ids, '%d' ) . ')', array_merge( array( get_current_network_id() ), $ids ) ) ) );
	return array_values( array_intersect( array_map( 'intval', $ids ), $found ) );
}

function usage_for( Site_Store $sites, array $blog_ids ): array {
	$blog_ids = existing_blog_ids( $blog_ids );
	if ( ! $blog_ids ) {
		return array();
	}
	$posts   = post_counts( $blog_ids );
	$users   = user_counts( $blog_ids );
	$visits  = visits_this_month( $blog_ids );
	$domains = $sites->custom_domain_counts( $blog_ids );
	$out     = array();
	foreach ( $blog_ids as $id ) {
		$out[] = array(
			'blog_id'           => $id,
			'post_types'        => as_map( $posts[ $id ] ?? array() ),
			'custom_domains'    => $domains[ $id ] ?? 0,
			'disk_used_mb'      => number_format( disk_used_bytes( $id ) / MB_IN_BYTES, 2, '.', '' ),
			'users'             => as_map( $users[ $id ] ?? array() ),
			'visits_this_month' => $visits[ $id ] ?? 0,
		);
	}
	return $out;
}

/** SQL condition of the posts a quota counts (UM's Limit_Post_Types: publish + private; attachments: inherit). */
const COUNTED_POSTS = "(post_status IN ('publish','private') OR (post_type = 'attachment' AND post_status = 'inherit'))";

function post_counts( array $blog_ids ): array {
	global $wpdb;
	$parts = array();
	foreach ( $blog_ids as $id ) {
		// phpcs:ignore WordPress.DB.PreparedSQL.InterpolatedNotPrepared -- a blog's posts table, quoted by ident().
		$parts[] = $wpdb->prepare( 'SELECT %d AS blog_id, post_type, COUNT(*) AS n FROM ' . ident( $wpdb->get_blog_prefix( $id ) . 'posts' ) . ' WHERE ' . COUNTED_POSTS . ' GROUP BY post_type', $id );
	}
	$out = array();
	foreach ( $wpdb->get_results( implode( ' UNION ALL ', $parts ), ARRAY_A ) as $r ) { // phpcs:ignore WordPress.DB.PreparedSQL.NotPrepared -- each part prepared above.
		$out[ (int) $r['blog_id'] ][ $r['post_type'] ] = (int) $r['n'];
	}
	return $out;
}

/** Counted posts of one type on the current blog (the enforcement check). */
function post_count( string $post_type ): int {
	global $wpdb;
	return (int) $wpdb->get_var( $wpdb->prepare( "SELECT COUNT(*) FROM {$wpdb->posts} WHERE post_type = %s AND " . COUNTED_POSTS, $post_type ) ); // phpcs:ignore WordPress.DB.PreparedSQL.NotPrepared -- COUNTED_POSTS is a constant condition.
}

/** Posts of one type on the current blog in `$statuses`, leaving out `$exclude_id` (the enforcement checks). */
function post_count_in( string $post_type, array $statuses, int $exclude_id = 0 ): int {
	global $wpdb;
	// phpcs:ignore WordPress.DB.PreparedSQL.InterpolatedNotPrepared -- an IN list of %s placeholders.
	return (int) $wpdb->get_var( $wpdb->prepare( "SELECT COUNT(*) FROM {$wpdb->posts} WHERE post_type = %s AND post_status IN (" . placeholders( $statuses, '%s' ) . ') AND ID <> %d', array_merge( array( $post_type ), array_values( $statuses ), array( $exclude_id ) ) ) );
}

/** Users per role of many blogs from one usermeta query over their `{prefix}capabilities` keys. */
function user_counts( array $blog_ids ): array {
	global $wpdb;
	$keys = array();
	foreach ( $blog_ids as $id ) {
		$keys[ $wpdb->get_blog_prefix( $id ) . 'capabilities' ] = $id;
	}
	$out = array();
	// phpcs:ignore WordPress.DB.PreparedSQL.InterpolatedNotPrepared -- an IN list of %s placeholders.
	$rows = $wpdb->get_results( $wpdb->prepare( "SELECT meta_key, meta_value FROM {$wpdb->usermeta} WHERE meta_key IN (" . placeholders( $keys, '%s' ) . ')', array_keys( $keys ) ), ARRAY_A );
	foreach ( $rows ?: array() as $r ) {
		$caps = maybe_unserialize( $r['meta_value'] );
		if ( ! is_array( $caps ) ) {
			continue;
		}
		foreach ( $caps as $role => $has ) {
			if ( $has ) {
				$out[ $keys[ $r['meta_key'] ] ][ $role ] = ( $out[ $keys[ $r['meta_key'] ] ][ $role ] ?? 0 ) + 1;
			}
		}
	}
	return $out;
}

/** Members of blog `$blog_id` holding `$role` (the enforcement check). */
function role_count( int $blog_id, string $role ): int {
	return user_counts( array( $blog_id ) )[ $blog_id ][ $role ] ?? 0;
}

function visits_this_month( array $blog_ids ): array {
	global $wpdb;
	$month = gmdate( 'Ym' );
	$rows  = $wpdb->get_results(
		$wpdb->prepare(
			// phpcs:ignore WordPress.DB.PreparedSQL.InterpolatedNotPrepared -- an IN list of %d placeholders.
			"SELECT blog_id, SUM(CAST(meta_value AS UNSIGNED)) AS n FROM {$wpdb->blogmeta} WHERE blog_id IN (" . placeholders( $blog_ids, '%d' ) . ') AND meta_key LIKE %s GROUP BY blog_id',
			array_merge( array_map( 'intval', $blog_ids ), array( $wpdb->esc_like( 'wu_visits_' . $month ) . '%' ) )
		),
		ARRAY_A
	);
	$out   = array();
	foreach ( $rows as $r ) {
		$out[ (int) $r['blog_id'] ] = (int) $r['n'];
	}
	return $out;
}

/** Bytes in the blog's upload directory; the main site's excludes the other sites' `sites/` folders (core rule). */
function disk_used_bytes( int $blog_id ): int {
	switch_to_blog( $blog_id );
	$dir  = wp_upload_dir( null, false );
	$size = is_dir( $dir['basedir'] ) ? (int) get_dirsize( $dir['basedir'] ) : 0;
	restore_current_blog();
	return $size;
}

// ------------------------------------------------------------------------------------------- counting visits

/**
 * Count a logged-out front-end visit, once per browser per day (cookie, as UM's WUVISIT), into today's
 * `wu_visits_YYYYMMDD` blogmeta with one atomic UPDATE.
 */
function count_visit(): void {
	global $wpdb;
	if ( is_user_logged_in() || isset( $_COOKIE['wpbridge_visit'] ) ) {
		return;
	}
	$blog = get_current_blog_id();
	$key  = 'wu_visits_' . gmdate( 'Ymd' );
	$done = $wpdb->query( $wpdb->prepare( "UPDATE {$wpdb->blogmeta} SET meta_value = CAST(meta_value AS UNSIGNED) + 1 WHERE blog_id = %d AND meta_key = %s", $blog, $key ) );
	if ( ! $done ) {
		add_site_meta( $blog, $key, 1, true ) || $wpdb->query( $wpdb->prepare( "UPDATE {$wpdb->blogmeta} SET meta_value = CAST(meta_value AS UNSIGNED) + 1 WHERE blog_id = %d AND meta_key = %s", $blog, $key ) );
	}
	wp_cache_delete( $blog, 'blog_meta' );
	if ( ! headers_sent() ) {
		setcookie( 'wpbridge_visit', '1', time() + DAY_IN_SECONDS, COOKIEPATH ?: '/', COOKIE_DOMAIN ?: '', is_ssl(), true );
	}
}
