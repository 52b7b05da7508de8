<?php
/*
 * Bulk seeding of a wpbridge sandbox for bench/sync.py: N memberships, each with one customer and one *real*
 * WordPress site, in minutes rather than hours.
 *
 * Why not wpmu_create_blog() N times: each call installs a site (10 tables, ~100 options, default content,
 * roles, hooks) and costs ~0.3 s, i.e. ~1 h for 10,000 sites on this machine. Instead one template site is
 * made with wpmu_create_blog(); every new site gets a wp_blogs row and a copy of the template's tables
 * (CREATE TABLE ... LIKE + INSERT ... SELECT), then its own siteurl/home/blogname and `wp_{id}_user_roles`
 * option, and the admin user's membership of the blog. The result is what WordPress itself would have built
 * (the site serves pages and REST under /bulk-N/). Customers, memberships, plugin-stub's site links and each
 * site's stored quota (blogmeta `wpbridge_quota`) are inserted with multi-row INSERTs.
 * With Ultimate Multisite active (the sandbox's UM flavor) the customers and memberships go into UM's own tables
 * (`wu_customers`, `wu_memberships`, add-ons serialized as UM stores them) and each site is linked the way UM links
 * it (blogmeta `wu_membership_id`, `wu_customer_id`, `wu_type` = customer_owned); no quota is stored (UM computes
 * limits). Every bulk customer is the admin user (UM's limits and wpbridge's reads never need their own users).
 *
 * Usage (PHP CLI; boots the sandbox's WordPress, so it uses its wp-config.php and database):
 *   php seed_bulk.php seed  DOCROOT DOMAIN SPEC.json   grow the bulk sites to spec.n (idempotent; prints JSON)
 *   php seed_bulk.php dirty DOCROOT DOMAIN SPEC.json   overwrite the quota of every `spec.every`-th bulk site
 *                                                      with spec.stale (a quota that is out of date)
 *   php seed_bulk.php count DOCROOT DOMAIN             number of bulk sites
 * SPEC.json: {"n": 1000, "kinds": [{"plan_id":1,"addon_products":{},"amount":"0","quota":{...}}, ...],
 *             "every": 10, "stale": {...}}. Bulk site k (1-based) uses kinds[(k-1) % count(kinds)].
 */
if ( PHP_SAPI !== 'cli' ) {
	exit( 1 );
}
$bulk_cmd     = $argv[1] ?? '';
$bulk_docroot = rtrim( $argv[2] ?? '', '/' );
$bulk_domain  = $argv[3] ?? '';
$bulk_spec    = isset( $argv[4] ) ? json_decode( (string) file_get_contents( $argv[4] ), true ) : array();
if ( ! in_array( $bulk_cmd, array( 'seed', 'dirty', 'count' ), true ) || '' === $bulk_docroot || '' === $bulk_domain ) {
	fwrite( STDERR, "usage: php seed_bulk.php seed|dirty|count DOCROOT DOMAIN [SPEC.json]\n" );
	exit( 2 );
}

$_SERVER['HTTP_HOST']       = $bulk_domain;
$_SERVER['SERVER_NAME']     = preg_replace( '/:\d+$/', '', $bulk_domain );
$_SERVER['SERVER_PORT']     = preg_match( '/:(\d+)$/', $bulk_domain, $bulk_m ) ? $bulk_m[1] : '80';
$_SERVER['REQUEST_URI']     = '/';
$_SERVER['REQUEST_METHOD']  = 'GET';
$_SERVER['SERVER_PROTOCOL'] = 'HTTP/1.1';
$_SERVER['PHP_SELF']        = '/index.php';
$_SERVER['SCRIPT_NAME']     = '/index.php';
$_SERVER['SCRIPT_FILENAME'] = $bulk_docroot . '/index.php';
require $bulk_docroot . '/wp-load.php';
require_once ABSPATH . 'wp-admin/includes/ms.php';

const BULK_PREFIX   = '/bulk-';
const BULK_TEMPLATE = '/bulk-template/';
const BULK_CHUNK    = 250;

function bulk_fail( string $message ): void {
	fwrite( STDERR, "seed_bulk.php: $message\n" );
	exit( 3 );
}

function bulk_q( string $sql ): void {
	global $wpdb;
	if ( false === $wpdb->query( $sql ) ) {
		bulk_fail( 'SQL failed: ' . $wpdb->last_error . ' in: ' . substr( $sql, 0, 200 ) );
	}
}

function bulk_count(): int {
	global $wpdb;
	return (int) $wpdb->get_var( $wpdb->prepare( "SELECT COUNT(*) FROM {$wpdb->blogs} WHERE path LIKE %s AND path <> %s", BULK_PREFIX . '%', BULK_TEMPLATE ) );
}

function bulk_template( string $domain ): int {
	global $wpdb;
	$id = (int) $wpdb->get_var( $wpdb->prepare( "SELECT blog_id FROM {$wpdb->blogs} WHERE path = %s", BULK_TEMPLATE ) );
	if ( $id ) {
		return $id;
	}
	$id = wpmu_create_blog( $domain, BULK_TEMPLATE, 'Bulk template', 1, array( 'public' => 1 ), get_current_network_id() );
	if ( is_wp_error( $id ) ) {
		bulk_fail( 'wpmu_create_blog(template): ' . $id->get_error_message() );
	}
	return (int) $id;
}

/** The template's tables by suffix (posts, options, ...). */
function bulk_tables( int $template ): array {
	global $wpdb;
	$prefix = $wpdb->get_blog_prefix( $template );
	$out    = array();
	foreach ( $wpdb->get_col( $wpdb->prepare( 'SHOW TABLES LIKE %s', $wpdb->esc_like( $prefix ) . '%' ) ) as $table ) {
		$suffix = substr( $table, strlen( $prefix ) );
		if ( preg_match( '/^[a-z_]+$/', $suffix ) ) {
			$out[] = $suffix;
		}
	}
	return $out;
}

function bulk_values( array $rows ): string {
	global $wpdb;
	$out = array();
	foreach ( $rows as $row ) {
		$cells = array();
		foreach ( $row as $v ) {
			$cells[] = null === $v ? 'NULL' : ( is_int( $v ) ? (string) $v : "'" . esc_sql( (string) $v ) . "'" );
		}
		$out[] = '(' . implode( ',', $cells ) . ')';
	}
	return implode( ',', $out );
}

/** Insert rows into a table with an AUTO_INCREMENT id; returns the ids (consecutive for one multi-row INSERT). */
function bulk_insert_ids( string $table, array $columns, array $rows ): array {
	global $wpdb;
	bulk_q( "INSERT INTO $table (" . implode( ',', $columns ) . ') VALUES ' . bulk_values( $rows ) );
	$first = (int) $wpdb->get_var( 'SELECT LAST_INSERT_ID()' );
	return range( $first, $first + count( $rows ) - 1 );
}

function bulk_seed( string $domain, array $spec ): array {
	global $wpdb;
	$want  = (int) ( $spec['n'] ?? 0 );
	$kinds = $spec['kinds'] ?? array();
	if ( $want < 0 || ! $kinds ) {
		bulk_fail( 'spec needs n >= 0 and at least one kind' );
	}
	$started  = microtime( true );
	$template = bulk_template( $domain );
	$tables   = bulk_tables( $template );
	$tprefix  = $wpdb->get_blog_prefix( $template );
	$have     = bulk_count();
	$now      = gmdate( 'Y-m-d H:i:s' );
	$expires  = gmdate( 'Y-m-d H:i:s', time() + 20 * 86400 );
	$p        = $wpdb->base_prefix . 'wpbridge_';
	$net      = get_current_network_id();
	$admin    = 1;
	$made     = 0;
	while ( $have < $want ) {
		$todo = min( BULK_CHUNK, $want - $have );
		$ks   = range( $have + 1, $have + $todo );
		$kind = fn( int $k ) => $kinds[ ( $k - 1 ) % count( $kinds ) ];

		if ( function_exists( 'wu_create_membership' ) ) {
			bulk_um_chunk( $domain, $ks, $kind, $tables, $tprefix, $now, $expires );
			$have += $todo;
			$made += $todo;
			fwrite( STDERR, sprintf( "seed_bulk (UM): %d/%d sites (%.1f s)\n", $have, $want, microtime( true ) - $started ) );
			continue;
		}
		$customers   = bulk_insert_ids(
			"{$p}customers",
			array( 'user_id', 'type', 'email_verification', 'billing_address', 'extra_information', 'date_registered', 'date_modified' ),
			array_map( fn( $k ) => array( $admin, 'customer', 'verified', '{}', '{}', $now, $now ), $ks )
		);
		$memberships = bulk_insert_ids(
			"{$p}memberships",
			array( 'customer_id', 'user_id', 'plan_id', 'addon_products', 'currency', 'amount', 'initial_amount', 'duration', 'duration_unit', 'recurring', 'auto_renew', 'status', 'gateway', 'limitations', 'date_created', 'date_renewed', 'date_expiration', 'date_modified' ),
			array_map(
				function ( $i ) use ( $ks, $kind, $customers, $admin, $now, $expires ) {
					$k = $kind( $ks[ $i ] );
					$addons = json_encode( (object) ( $k['addon_products'] ?? array() ) );
					return array( $customers[ $i ], $admin, (int) $k['plan_id'], $addons, 'USD', (string) $k['amount'], (string) $k['amount'], 1, 'month', 1, 1, 'active', 'manual', '{}', $now, $now, $expires, $now );
				},
				array_keys( $ks )
			)
		);
		$blogs       = bulk_insert_ids(
			$wpdb->blogs,
			array( 'site_id', 'domain', 'path', 'registered', 'last_updated', 'public' ),
			array_map( fn( $k ) => array( $net, $domain, BULK_PREFIX . $k . '/', $now, $now, 1 ), $ks )
		);
		$usermeta = array();
		foreach ( $blogs as $i => $blog ) {
			$bp = $wpdb->get_blog_prefix( $blog );
			foreach ( $tables as $suffix ) {
				bulk_q( "CREATE TABLE `{$bp}{$suffix}` LIKE `{$tprefix}{$suffix}`" );
				bulk_q( "INSERT INTO `{$bp}{$suffix}` SELECT * FROM `{$tprefix}{$suffix}`" );
			}
			$url = 'http://' . $domain . BULK_PREFIX . $ks[ $i ];
			bulk_q( $wpdb->prepare( "UPDATE `{$bp}options` SET option_value = CASE option_name WHEN 'siteurl' THEN %s WHEN 'home' THEN %s ELSE %s END WHERE option_name IN ('siteurl','home','blogname')", $url, $url, 'Bulk site ' . $ks[ $i ] ) );
			bulk_q( $wpdb->prepare( "UPDATE `{$bp}options` SET option_name = %s WHERE option_name = %s", $bp . 'user_roles', $tprefix . 'user_roles' ) );
			$usermeta[] = array( $admin, $bp . 'capabilities', serialize( array( 'administrator' => true ) ) );
			$usermeta[] = array( $admin, $bp . 'user_level', '10' );
		}
		bulk_q( "INSERT INTO {$wpdb->usermeta} (user_id, meta_key, meta_value) VALUES " . bulk_values( $usermeta ) );
		bulk_q(
			"INSERT INTO {$p}site_links (blog_id, membership_id, customer_id, type, limitations, date_modified) VALUES " . bulk_values(
				array_map( fn( $i ) => array( $blogs[ $i ], $memberships[ $i ], $customers[ $i ], 'customer_owned', '{}', $now ), array_keys( $ks ) )
			)
		);
		bulk_q(
			"INSERT INTO {$wpdb->blogmeta} (blog_id, meta_key, meta_value) VALUES " . bulk_values(
				array_map( fn( $i ) => array( $blogs[ $i ], 'wpbridge_quota', json_encode( $kind( $ks[ $i ] )['quota'] ) ), array_keys( $ks ) )
			)
		);
		$have += $todo;
		$made += $todo;
		fwrite( STDERR, sprintf( "seed_bulk: %d/%d sites (%.1f s)\n", $have, $want, microtime( true ) - $started ) );
	}
	wp_update_network_site_counts( $net );
	wp_cache_flush();
	return array(
		'bulk_sites' => $have,
		'created'    => $made,
		'template'   => $template,
		'tables'     => $tables,
		'seconds'    => round( microtime( true ) - $started, 2 ),
	);
}

/** Blogs cloned from the template for bulk sites $ks (their tables, urls, roles, the admin's membership of them). */
function bulk_blogs( string $domain, array $ks, array $tables, string $tprefix, string $now ): array {
	global $wpdb;
	$net   = get_current_network_id();
	$blogs = bulk_insert_ids(
		$wpdb->blogs,
		array( 'site_id', 'domain', 'path', 'registered', 'last_updated', 'public' ),
		array_map( fn( $k ) => array( $net, $domain, BULK_PREFIX . $k . '/', $now, $now, 1 ), $ks )
	);
	$usermeta = array();
	foreach ( $blogs as $i => $blog ) {
		$bp = $wpdb->get_blog_prefix( $blog );
		foreach ( $tables as $suffix ) {
			bulk_q( "CREATE TABLE `{$bp}{$suffix}` LIKE `{$tprefix}{$suffix}`" );
			bulk_q( "INSERT INTO `{$bp}{$suffix}` SELECT * FROM `{$tprefix}{$suffix}`" );
		}
		$url = 'http://' . $domain . BULK_PREFIX . $ks[ $i ];
		bulk_q( $wpdb->prepare( "UPDATE `{$bp}options` SET option_value = CASE option_name WHEN 'siteurl' THEN %s WHEN 'home' THEN %s ELSE %s END WHERE option_name IN ('siteurl','home','blogname')", $url, $url, 'Bulk site ' . $ks[ $i ] ) );
		bulk_q( $wpdb->prepare( "UPDATE `{$bp}options` SET option_name = %s WHERE option_name = %s", $bp . 'user_roles', $tprefix . 'user_roles' ) );
		$usermeta[] = array( 1, $bp . 'capabilities', serialize( array( 'administrator' => true ) ) );
		$usermeta[] = array( 1, $bp . 'user_level', '10' );
	}
	bulk_q( "INSERT INTO {$wpdb->usermeta} (user_id, meta_key, meta_value) VALUES " . bulk_values( $usermeta ) );
	return $blogs;
}

/** One chunk of bulk members in UM's own tables, their sites linked through UM's blogmeta. */
function bulk_um_chunk( string $domain, array $ks, callable $kind, array $tables, string $tprefix, string $now, string $expires ): void {
	global $wpdb;
	$u         = $wpdb->base_prefix . 'wu_';
	$customers = bulk_insert_ids(
		"{$u}customers",
		array( 'user_id', 'type', 'email_verification', 'date_registered', 'vip', 'signup_form' ),
		array_map( fn( $k ) => array( 1, 'customer', 'verified', $now, 0, 'by-admin' ), $ks )
	);
	$members = bulk_insert_ids(
		"{$u}memberships",
		array( 'customer_id', 'user_id', 'plan_id', 'addon_products', 'currency', 'initial_amount', 'recurring', 'auto_renew', 'duration', 'duration_unit', 'amount', 'date_created', 'date_renewed', 'date_expiration', 'times_billed', 'billing_cycles', 'status', 'gateway', 'date_modified' ),
		array_map(
			function ( $i ) use ( $ks, $kind, $customers, $now, $expires ) {
				$k      = $kind( $ks[ $i ] );
				$addons = array();
				foreach ( $k['addon_products'] ?? array() as $pid => $qty ) {
					$addons[ (int) $pid ] = (int) $qty;
				}
				$recurring = (float) $k['amount'] > 0 ? 1 : 0;
				return array( $customers[ $i ], 1, (int) $k['plan_id'], serialize( $addons ), 'USD', (string) $k['amount'], $recurring, $recurring, 1, 'month', (string) $k['amount'], $now, $now, $expires, 1, 0, 'active', $recurring ? 'manual' : 'free', $now );
			},
			array_keys( $ks )
		)
	);
	$blogs = bulk_blogs( $domain, $ks, $tables, $tprefix, $now );
	$meta  = array();
	foreach ( $blogs as $i => $blog ) {
		$meta[] = array( $blog, 'wu_membership_id', (string) $members[ $i ] );
		$meta[] = array( $blog, 'wu_customer_id', (string) $customers[ $i ] );
		$meta[] = array( $blog, 'wu_type', 'customer_owned' );
	}
	bulk_q( "INSERT INTO {$wpdb->blogmeta} (blog_id, meta_key, meta_value) VALUES " . bulk_values( $meta ) );
}

/** Overwrite the stored quota of every `every`-th bulk site with `stale`; returns the blog ids made stale. */
function bulk_dirty( array $spec ): array {
	global $wpdb;
	if ( function_exists( 'wu_create_membership' ) ) {
		return array( 'stale' => 0, 'of' => bulk_count() ); // UM computes limits: there is no stored quota to age.
	}
	$every = max( 1, (int) ( $spec['every'] ?? 10 ) );
	$stale = json_encode( $spec['stale'] ?? array( 'disk_space' => array( 'enabled' => true, 'limit' => 3 ) ) );
	$ids   = array_map( 'intval', $wpdb->get_col( $wpdb->prepare( "SELECT blog_id FROM {$wpdb->blogs} WHERE path LIKE %s AND path <> %s ORDER BY blog_id", BULK_PREFIX . '%', BULK_TEMPLATE ) ) );
	$pick  = array();
	foreach ( $ids as $i => $id ) {
		if ( 0 === $i % $every ) {
			$pick[] = $id;
		}
	}
	foreach ( array_chunk( $pick, 1000 ) as $chunk ) {
		bulk_q( $wpdb->prepare( "UPDATE {$wpdb->blogmeta} SET meta_value = %s WHERE meta_key = 'wpbridge_quota' AND blog_id IN (" . implode( ',', $chunk ) . ')', $stale ) );
	}
	wp_cache_flush();
	return array( 'stale' => count( $pick ), 'of' => count( $ids ) );
}

if ( 'count' === $bulk_cmd ) {
	echo json_encode( array( 'bulk_sites' => bulk_count() ) ), "\n";
} elseif ( 'seed' === $bulk_cmd ) {
	echo json_encode( bulk_seed( $bulk_domain, $bulk_spec ) ), "\n";
} else {
	echo json_encode( bulk_dirty( $bulk_spec ) ), "\n";
}
