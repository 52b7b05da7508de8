<?php
/**
 * Stub mode's `wu/v2/site`: the network's real WordPress sites (wp_blogs) joined with their link row (membership,
 * customer, type, the site's own limitations override; UM keeps these in blogmeta `wu_*`). Creating a site calls
 * wpmu_create_blog() with the network's domain exactly as stored (it may carry a port).
 */

namespace WPBridge;

if ( ! defined( 'ABSPATH' ) ) {
	exit;
}

const SITE_TYPES = array( 'default', 'site_template', 'customer_owned', 'pending', 'external', 'main', 'demo' );

function register_site_routes(): void {
	register_rest_route(
		WU_NAMESPACE,
		'/site',
		array(
			array(
				'methods'             => 'GET',
				'permission_callback' => __NAMESPACE__ . '\\permission',
				'callback'            => guarded( __NAMESPACE__ . '\\list_sites' ),
				'args'                => list_args(),
			),
			array(
				'methods'             => 'POST',
				'permission_callback' => __NAMESPACE__ . '\\permission',
				'callback'            => guarded( __NAMESPACE__ . '\\create_site' ),
			),
			'schema' => __NAMESPACE__ . '\\site_schema',
		)
	);
	$id = array( 'id' => id_arg( 'site (blog) id' ) );
	register_rest_route(
		WU_NAMESPACE,
		'/site/(?P<id>[\d]+)',
		array(
			array(
				'methods'             => 'GET',
				'permission_callback' => __NAMESPACE__ . '\\permission',
				'callback'            => guarded( fn( $r ) => site_by_id( url_id( $r ) ) ?? not_found( 'site' ) ),
				'args'                => $id,
			),
			array(
				'methods'             => 'POST, PUT, PATCH',
				'permission_callback' => __NAMESPACE__ . '\\permission',
				'callback'            => guarded( __NAMESPACE__ . '\\update_site' ),
				'args'                => $id,
			),
			array(
				'methods'             => 'DELETE',
				'permission_callback' => __NAMESPACE__ . '\\permission',
				'callback'            => guarded( __NAMESPACE__ . '\\delete_site' ),
				'args'                => $id,
			),
			'schema' => __NAMESPACE__ . '\\site_schema',
		)
	);
}

/** The filterable/sortable columns of a site record and their SQL types. */
const SITE_COLUMNS = array(
	'blog_id'       => 'bigint',
	'domain'        => 'varchar',
	'path'          => 'varchar',
	'registered'    => 'datetime',
	'last_updated'  => 'datetime',
	'public'        => 'tinyint(1)',
	'archived'      => 'tinyint(1)',
	'spam'          => 'tinyint(1)',
	'deleted'       => 'tinyint(1)',
	'membership_id' => 'bigint',
	'customer_id'   => 'bigint',
	'type'          => 'varchar',
);

/** The site rows of this network with their links, as a derived table whose columns are SITE_COLUMNS. */
function sites_sql(): string {
	global $wpdb;
	$links = table( 'site_links' );
	$main  = (int) get_main_site_id();
	$net   = (int) get_current_network_id();
	return "(SELECT b.blog_id, b.domain, b.path, b.registered, b.last_updated, b.public, b.archived, b.spam, b.deleted,
		COALESCE(l.membership_id, 0) AS membership_id, COALESCE(l.customer_id, 0) AS customer_id,
		COALESCE(l.type, IF(b.blog_id = $main, 'main', 'default')) AS type, l.limitations
		FROM {$wpdb->blogs} b LEFT JOIN $links l ON l.blog_id = b.blog_id WHERE b.site_id = $net) s";
}

function list_sites( \WP_REST_Request $request ): \WP_REST_Response {
	global $wpdb;
	$query                        = $request->get_query_params();
	list( $limit, $offset, $per ) = paging( $request );
	list( $where, $vals )         = where_clause( SITE_COLUMNS, $query, array(), array( 'domain', 'path' ), array( 'id' => 'blog_id' ) );
	$order                        = order_clause( SITE_COLUMNS, $query, array(), 'blog_id', array( 'id' => 'blog_id' ) );
	$prep                         = fn( string $sql ) => $vals ? $wpdb->prepare( $sql, $vals ) : $sql;
	$from                         = sites_sql();
	$total                        = (int) $wpdb->get_var( $prep( "SELECT COUNT(*) FROM $from WHERE $where" ) );
	$rows                         = $wpdb->get_results( $prep( "SELECT * FROM $from WHERE $where $order" ) . $wpdb->prepare( ' LIMIT %d OFFSET %d', $limit, $offset ), ARRAY_A );
	return paged_response( sites_out( $rows ), $total, $per );
}

function site_by_id( int $blog_id ): ?array {
	global $wpdb;
	$rows = $wpdb->get_results( $wpdb->prepare( 'SELECT * FROM ' . sites_sql() . ' WHERE blog_id = %d', $blog_id ), ARRAY_A );
	return $rows ? sites_out( $rows )[0] : null;
}

/**
 * Titles of many blogs in two queries (each blog has its own options table); a blog still being created (no
 * options table yet) has none, instead of failing the whole page's query.
 */
function blog_titles( array $blog_ids ): array {
	global $wpdb;
	if ( ! $blog_ids ) {
		return array();
	}
	$tables = array();
	foreach ( $blog_ids as $id ) {
		$tables[ $wpdb->get_blog_prefix( (int) $id ) . 'options' ] = (int) $id;
	}
	$in       = implode( ',', array_map( fn( $t ) => $wpdb->prepare( '%s', $t ), array_keys( $tables ) ) );
	$existing = $wpdb->get_col( "SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME IN ($in)" );
	$parts    = array();
	foreach ( $existing as $table ) {
		$parts[] = $wpdb->prepare( "SELECT %d AS blog_id, option_value FROM `$table` WHERE option_name = 'blogname'", $tables[ $table ] );
	}
	$titles = array();
	if ( $parts ) {
		foreach ( $wpdb->get_results( implode( ' UNION ALL ', $parts ), ARRAY_A ) as $r ) {
			$titles[ (int) $r['blog_id'] ] = $r['option_value'];
		}
	}
	return $titles;
}

function sites_out( array $rows ): array {
	$titles = blog_titles( array_map( fn( $r ) => (int) $r['blog_id'], $rows ) );
	$out    = array();
	foreach ( $rows as $r ) {
		$id    = (int) $r['blog_id'];
		$out[] = array(
			'id'            => $id,
			'blog_id'       => $id,
			'model'         => 'site',
			'site_id'       => (int) get_current_network_id(),
			'domain'        => $r['domain'],
			'path'          => $r['path'],
			'title'         => $titles[ $id ] ?? '',
			'membership_id' => (int) $r['membership_id'] ?: null,
			'customer_id'   => (int) $r['customer_id'] ?: null,
			'type'          => $r['type'],
			'registered'    => d( $r['registered'] ),
			'last_updated'  => d( $r['last_updated'] ),
			'public'        => b( $r['public'] ),
			'archived'      => b( $r['archived'] ),
			'spam'          => b( $r['spam'] ),
			'deleted'       => b( $r['deleted'] ),
			'limitations'   => limitations_out( json_in( $r['limitations'] ?? null ) ),
		);
	}
	return $out;
}

// ---------------------------------------------------------------------------------------------------- writes

/** The link fields a site write may set, checked; `$current` holds the values they merge into. */
function site_changes( array $body, array $current ): array {
	$body = without_credentials( $body );
	if ( isset( $body['meta'] ) ) {
		if ( ! is_map( $body['meta'] ) || array_diff( array_keys( $body['meta'] ), array( 'wu_limitations' ) ) ) {
			throw new Invalid( 'meta', __( 'only meta.wu_limitations is supported', 'wpbridge-stub' ) );
		}
		$body['limitations'] = $body['meta']['wu_limitations'] ?? null;
		unset( $body['meta'] );
	}
	$link = array();
	foreach ( $body as $key => $value ) {
		switch ( $key ) {
			case 'membership_id':
			case 'customer_id':
				$link[ $key ] = ( null === $value || false === $value || '' === $value ) ? 0 : to_int( $value, $key, 0 );
				break;
			case 'type':
				$link['type'] = to_enum( $value, SITE_TYPES, 'type' );
				break;
			case 'limitations':
				$link['limitations'] = validate_limitations( $value, 'limitations' );
				break;
			case 'title':
				$link['title'] = to_string( $value, 'title', 191, false );
				break;
			case 'path':
			case 'domain':
				if ( array_key_exists( $key, $current ) && $value === $current[ $key ] ) {
					break; // Unchanged read-only value (a record sent back as it was read).
				}
				// Fall through: UM would move the site; the stub does not.
			default:
				if ( in_array( $key, array( 'id', 'blog_id', 'model', 'site_id', 'registered', 'last_updated' ), true ) && array_key_exists( $key, $current ) ) {
					break;
				}
				return array(
					'error' => error( 'wu_rest_site_invalid_set_method', sprintf( __( 'The Site object does not have a set_%s method', 'wpbridge-stub' ), $key ), 400, array( 'field' => $key ) ),
				);
		}
	}
	$merged = array_merge( $current, $link );
	if ( $merged['membership_id'] ) {
		$m = row( 'membership', (int) $merged['membership_id'] );
		if ( ! $m ) {
			throw new Invalid( 'membership_id', sprintf( __( 'membership %s does not exist', 'wpbridge-stub' ), $merged['membership_id'] ) );
		}
		if ( ! $merged['customer_id'] ) {
			$merged['customer_id'] = (int) $m['customer_id'];
		} elseif ( (int) $merged['customer_id'] !== (int) $m['customer_id'] ) {
			throw new Invalid( 'customer_id', sprintf( __( 'membership %1$s belongs to customer %2$s', 'wpbridge-stub' ), $merged['membership_id'], $m['customer_id'] ) );
		}
	}
	if ( $merged['customer_id'] && ! row( 'customer', (int) $merged['customer_id'] ) ) {
		throw new Invalid( 'customer_id', sprintf( __( 'customer %s does not exist', 'wpbridge-stub' ), $merged['customer_id'] ) );
	}
	return array( 'record' => $merged );
}

function save_link( int $blog_id, array $r ): void {
	global $wpdb;
	$wpdb->replace(
		table( 'site_links' ),
		array(
			'blog_id'       => $blog_id,
			'membership_id' => (int) $r['membership_id'],
			'customer_id'   => (int) $r['customer_id'],
			'type'          => $r['type'],
			'limitations'   => json_out( as_map( $r['limitations'] ) ),
			'date_modified' => now_gmt(),
		)
	);
}

function create_site( \WP_REST_Request $request ): mixed {
	$body = body( $request );
	$path = $body['path'] ?? null;
	unset( $body['path'] );
	if ( ! isset( $body['title'] ) ) {
		throw new Invalid( 'title', __( 'is required', 'wpbridge-stub' ) );
	}
	$slug    = site_slug( $path );
	$network = get_network();
	$domain  = is_subdomain_install() ? "$slug.{$network->domain}" : $network->domain;
	$path    = is_subdomain_install() ? $network->path : $network->path . $slug . '/';
	$taken   = domain_exists( $domain, $path, $network->id );
	if ( $taken ) {
		throw new Invalid( 'path', sprintf( __( '"%1$s" is already site %2$s', 'wpbridge-stub' ), $path, $taken ) );
	}
	$defaults = array(
		'membership_id' => 0,
		'customer_id'   => 0,
		'type'          => 'customer_owned',
		'limitations'   => array(),
	);
	$changes  = site_changes( $body, $defaults );
	if ( isset( $changes['error'] ) ) {
		return $changes['error'];
	}
	$r        = $changes['record'];
	$owner    = site_owner( (int) $r['customer_id'] );
	$blog_id  = wpmu_create_blog( $domain, $path, $r['title'], $owner, array( 'public' => 1 ), $network->id );
	if ( is_wp_error( $blog_id ) ) {
		return error( 'wu_rest_site', sprintf( __( 'WordPress could not create the site: %s', 'wpbridge-stub' ), $blog_id->get_error_message() ), 400, array( 'field' => 'path' ) );
	}
	save_link( (int) $blog_id, $r );
	return site_by_id( (int) $blog_id );
}

/** `shop`, `/shop` or `/shop/` -> `shop`; lowercase letters, digits and hyphens, not a reserved name. */
function site_slug( mixed $path ): string {
	if ( ! is_string( $path ) ) {
		throw new Invalid( 'path', __( 'is required (e.g. "/shop/")', 'wpbridge-stub' ) );
	}
	$slug = trim( $path, '/' );
	if ( ! preg_match( '/^[a-z0-9][a-z0-9\-]{0,62}$/', $slug ) || ctype_digit( $slug ) ) {
		throw new Invalid( 'path', sprintf( __( 'must be one segment of lowercase letters, digits or hyphens, not only digits (got %s)', 'wpbridge-stub' ), short( $path ) ) );
	}
	if ( in_array( $slug, get_subdirectory_reserved_names(), true ) ) {
		throw new Invalid( 'path', sprintf( __( '"%s" is reserved by WordPress', 'wpbridge-stub' ), $slug ) );
	}
	return $slug;
}

/** The new site's administrator: the customer's WordPress user, else the first super admin. */
function site_owner( int $customer_id ): int {
	if ( $customer_id ) {
		$c = row( 'customer', $customer_id );
		if ( $c && get_userdata( (int) $c['user_id'] ) ) {
			return (int) $c['user_id'];
		}
	}
	if ( get_current_user_id() ) {
		return get_current_user_id();
	}
	$admin = get_user_by( 'login', get_super_admins()[0] ?? '' );
	return $admin ? (int) $admin->ID : 1;
}

function update_site( \WP_REST_Request $request ): mixed {
	$id   = url_id( $request );
	$site = site_by_id( $id );
	if ( ! $site ) {
		return not_found( 'site' );
	}
	$current                  = $site;
	$current['membership_id'] = (int) $site['membership_id'];
	$current['customer_id']   = (int) $site['customer_id'];
	$current['limitations']   = json_decode( json_out( $site['limitations'] ), true ) ?: array();
	$changes                  = site_changes( body( $request ), $current );
	if ( isset( $changes['error'] ) ) {
		return $changes['error'];
	}
	$r = $changes['record'];
	if ( $r['title'] !== $site['title'] ) {
		update_blog_option( $id, 'blogname', $r['title'] );
	}
	save_link( $id, $r );
	return site_by_id( $id );
}

function delete_site( \WP_REST_Request $request ): mixed {
	global $wpdb;
	$id = url_id( $request );
	if ( ! site_by_id( $id ) ) {
		return not_found( 'site' );
	}
	if ( is_main_site( $id ) ) {
		return error( 'wu_rest_site', __( 'The main site cannot be deleted.', 'wpbridge-stub' ), 400, array( 'field' => 'id' ) );
	}
	require_once ABSPATH . 'wp-admin/includes/ms.php';
	wpmu_delete_blog( $id, true );
	$wpdb->delete( table( 'site_links' ), array( 'blog_id' => $id ) );
	return true;
}
