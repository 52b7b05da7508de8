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

function register_site_routes( Site_Store $sites ): void {
	register_rest_route(
		WU_NAMESPACE,
		'/site',
		array(
			array(
				'methods'             => 'GET',
				'permission_callback' => __NAMESPACE__ . '\\permission',
				'callback'            => guarded( fn( $r ) => list_sites( $sites, $r ) ),
				'args'                => list_args(),
			),
			array(
				'methods'             => 'POST',
				'permission_callback' => __NAMESPACE__ . '\\permission',
				'callback'            => guarded( fn( $r ) => create_site( $sites, $r ) ),
				'args'                => endpoint_args( site_schema(), \WP_REST_Server::CREATABLE ),
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
				'callback'            => guarded( fn( $r ) => site_by_id( $sites, url_id( $r ) ) ?? not_found( 'site' ) ),
				'args'                => $id,
			),
			array(
				'methods'             => 'POST, PUT, PATCH',
				'permission_callback' => __NAMESPACE__ . '\\permission',
				'callback'            => guarded( fn( $r ) => update_site( $sites, $r ) ),
				'args'                => $id + endpoint_args( site_schema(), \WP_REST_Server::EDITABLE ),
			),
			array(
				'methods'             => 'DELETE',
				'permission_callback' => __NAMESPACE__ . '\\permission',
				'callback'            => guarded( fn( $r ) => delete_site( $sites, $r ) ),
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

/** The import's marker of a site being created (import.php): joined to the sites of every Site_Store's sql(). */
function pending_site_join(): string {
	return 'LEFT JOIN ' . ident( table( 'import_keys' ) ) . " p ON p.source_key = CAST(CONCAT('site:', b.domain, b.path) AS CHAR CHARACTER SET utf8mb4) COLLATE utf8mb4_bin";
}

/**
 * The network's sites with their links, as the flavor's Site_Store keeps them: every listing of sites reads them
 * here (`wu/v2/site`, `GET /wpbridge/v1/sites`, the import's sites, UM's computed limits and suspension). `$where`
 * and `$order` are SQL over the columns of Site_Store::sql() (`$where` with placeholders for `$vals`). Rows: blog
 * columns, `title`, `membership_id`/`customer_id` (null: not linked), `type` (null: not stored), `is_main`,
 * `limitations` (the site's own override, null: none), `suspended`, `pending` (an import is creating it).
 */
function site_links( Site_Store $store, string $where = '1=1', array $vals = array(), string $order = 'ORDER BY blog_id ASC', ?int $limit = null, int $offset = 0 ): array {
	global $wpdb;
	$sql = 'SELECT * FROM ' . $store->sql() . " WHERE $where $order";
	$sql = $vals ? $wpdb->prepare( $sql, $vals ) : $sql; // phpcs:ignore WordPress.DB.PreparedSQL.NotPrepared -- the store's prepared derived table; conditions with placeholders.
	if ( null !== $limit ) {
		$sql .= $wpdb->prepare( ' LIMIT %d OFFSET %d', $limit, $offset );
	}
	$rows   = $wpdb->get_results( $sql, ARRAY_A ) ?: array(); // phpcs:ignore WordPress.DB.PreparedSQL.NotPrepared -- prepared above.
	$titles = blog_titles( array_map( fn( $r ) => (int) $r['blog_id'], $rows ) );
	$out    = array();
	foreach ( $rows as $r ) {
		$id    = (int) $r['blog_id'];
		$out[] = array(
			'blog_id'       => $id,
			'domain'        => $r['domain'],
			'path'          => $r['path'],
			'title'         => $titles[ $id ] ?? '',
			'registered'    => $r['registered'],
			'last_updated'  => $r['last_updated'],
			'public'        => $r['public'],
			'archived'      => $r['archived'],
			'spam'          => $r['spam'],
			'deleted'       => $r['deleted'],
			'membership_id' => (int) $r['membership_id'] ?: null,
			'customer_id'   => (int) $r['customer_id'] ?: null,
			'type'          => null === $r['type'] ? null : (string) $r['type'],
			'is_main'       => (bool) (int) $r['is_main'],
			'limitations'   => $store->override( $r['limitations'] ),
			'suspended'     => (bool) (int) $r['suspended'],
			'pending'       => ! (int) $r['membership_id'] && (int) ( $r['pending_membership_id'] ?? 0 ),
		);
	}
	return $out;
}

/** How many sites match `$where` (site_links()'s conditions). */
function site_count( Site_Store $store, string $where = '1=1', array $vals = array() ): int {
	global $wpdb;
	$sql = 'SELECT COUNT(*) FROM ' . $store->sql() . " WHERE $where";
	return (int) $wpdb->get_var( $vals ? $wpdb->prepare( $sql, $vals ) : $sql ); // phpcs:ignore WordPress.DB.PreparedSQL.NotPrepared -- the store's prepared derived table; conditions with placeholders.
}

/** One site with its links, or null. */
function site_link( Site_Store $store, int $blog_id ): ?array {
	return site_links( $store, 'blog_id = %d', array( $blog_id ) )[0] ?? null;
}

/** The links of these sites: [blog_id => site_links() row]. */
function site_links_of( Site_Store $store, array $blog_ids ): array {
	if ( ! $blog_ids ) {
		return array();
	}
	$rows = site_links( $store, 'blog_id IN (' . placeholders( $blog_ids, '%d' ) . ')', array_map( 'intval', $blog_ids ) );
	return array_column( $rows, null, 'blog_id' );
}

function list_sites( Site_Store $store, \WP_REST_Request $request ): \WP_REST_Response {
	$query                        = $request->get_query_params();
	list( $limit, $offset, $per ) = paging( $request );
	list( $where, $vals )         = where_clause( SITE_COLUMNS, $query, array(), array( 'domain', 'path' ), array( 'id' => 'blog_id' ) );
	$order                        = order_clause( SITE_COLUMNS, $query, array(), 'blog_id', array( 'id' => 'blog_id' ) );
	$rows                         = site_links( $store, $where, $vals, $order, $limit, $offset );
	return paged_response( array_map( __NAMESPACE__ . '\\site_out', $rows ), site_count( $store, $where, $vals ), $per );
}

function site_by_id( Site_Store $store, int $blog_id ): ?array {
	$row = site_link( $store, $blog_id );
	return $row ? site_out( $row ) : null;
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
	// phpcs:ignore WordPress.DB.PreparedSQL.InterpolatedNotPrepared -- an IN list of %s placeholders.
	$existing = $wpdb->get_col( $wpdb->prepare( 'SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME IN (' . placeholders( $tables, '%s' ) . ')', array_keys( $tables ) ) );
	$parts    = array();
	foreach ( $existing as $table ) {
		// phpcs:ignore WordPress.DB.PreparedSQL.InterpolatedNotPrepared -- a table name read from information_schema, quoted by ident().
		$parts[] = $wpdb->prepare( 'SELECT %d AS blog_id, option_value FROM ' . ident( $table ) . " WHERE option_name = 'blogname'", $tables[ $table ] );
	}
	$titles = array();
	if ( $parts ) {
		foreach ( $wpdb->get_results( implode( ' UNION ALL ', $parts ), ARRAY_A ) as $r ) { // phpcs:ignore WordPress.DB.PreparedSQL.NotPrepared -- each part prepared above.
			$titles[ (int) $r['blog_id'] ] = $r['option_value'];
		}
	}
	return $titles;
}

/** A `wu/v2/site` record (stub mode). */
function site_out( array $r ): array {
	return array(
		'id'            => $r['blog_id'],
		'blog_id'       => $r['blog_id'],
		'model'         => 'site',
		'site_id'       => (int) get_current_network_id(),
		'domain'        => $r['domain'],
		'path'          => $r['path'],
		'title'         => $r['title'],
		'membership_id' => $r['membership_id'],
		'customer_id'   => $r['customer_id'],
		'type'          => $r['type'] ?? ( $r['is_main'] ? 'main' : 'default' ),
		'registered'    => d( $r['registered'] ),
		'last_updated'  => d( $r['last_updated'] ),
		'public'        => b( $r['public'] ),
		'archived'      => b( $r['archived'] ),
		'spam'          => b( $r['spam'] ),
		'deleted'       => b( $r['deleted'] ),
		'limitations'   => limitations_out( $r['limitations'] ?? array() ),
	);
}

/**
 * `GET /wpbridge/v1/sites`: every site of the network in blog_id order, paged, with its links as the flavor keeps
 * them (a link not stored is null: never "every membership"; the main site is `type: main`). Filters (SQL):
 * `blog_ids`, `membership_id`, `customer_id`. An unknown query parameter is refused, so a misspelt filter never
 * returns the whole network.
 */
function sites_route( Site_Store $store, \WP_REST_Request $request ): \WP_REST_Response {
	$allowed = array( 'page', 'per_page', 'blog_ids', 'membership_id', 'customer_id', 'unlinked', 'orderby', 'order', 'number', 'offset' );
	foreach ( array_keys( $request->get_query_params() ) as $k ) {
		if ( ! in_array( $k, $allowed, true ) ) {
			throw new Invalid( (string) $k, __( 'unknown parameter (allowed: page, per_page, blog_ids, membership_id, customer_id, unlinked)', 'wpbridge-stub' ) );
		}
	}
	list( $limit, $offset, $per ) = paging( $request );
	$where                        = array( '1=1' );
	$vals                         = array();
	$ids                          = blog_ids_param( $request, false );
	if ( null !== $ids ) {
		$where[] = $ids ? 'blog_id IN (' . placeholders( $ids, '%d' ) . ')' : '1=0';
		$vals    = array_merge( $vals, $ids );
	}
	foreach ( array( 'membership_id', 'customer_id' ) as $param ) {
		$v = $request->get_param( $param );
		if ( null !== $v ) {
			$where[] = "$param = %d";
			$vals[]  = to_int( $v, $param, 1 );
		}
	}
	if ( to_bool( $request->get_param( 'unlinked' ) ?? false, 'unlinked' ) ) {
		// Only the customer sites whose membership link is unknown (what `wpbridge check` and UM-mode sync refuse
		// on): one short page however big the network.
		$where[] = "is_main = 0 AND ( membership_id IS NULL OR membership_id = 0 ) AND ( type = 'customer_owned' OR customer_id > 0 )";
	}
	$w     = implode( ' AND ', $where );
	$items = array();
	foreach ( site_links( $store, $w, $vals, 'ORDER BY blog_id ASC', $limit, $offset ) as $r ) {
		$items[] = array(
			'blog_id'       => $r['blog_id'],
			'domain'        => $r['domain'],
			'path'          => $r['path'],
			'title'         => $r['title'],
			'membership_id' => $r['membership_id'],
			'customer_id'   => $r['customer_id'],
			'type'          => $r['is_main'] ? 'main' : $r['type'],
			'is_main'       => $r['is_main'],
			'suspended'     => $r['suspended'],
			'limitations'   => null === $r['limitations'] ? new \stdClass() : limitations_out( $r['limitations'] ),
		);
	}
	return paged_response( $items, site_count( $store, $w, $vals ), $per );
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
				$link['title'] = to_text( $value, 'title', 191, false );
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
					/* translators: %s: the key given. */
					'error' => error( 'wu_rest_site_invalid_set_method', sprintf( __( 'The Site object does not have a set_%s method', 'wpbridge-stub' ), $key ), 400, array( 'field' => $key ) ),
				);
		}
	}
	$merged = array_merge( $current, $link );
	if ( $merged['membership_id'] ) {
		$m = row( 'membership', (int) $merged['membership_id'] );
		if ( ! $m ) {
			/* translators: %s: a membership id. */
			throw new Invalid( 'membership_id', sprintf( __( 'membership %s does not exist', 'wpbridge-stub' ), $merged['membership_id'] ) );
		}
		if ( ! $merged['customer_id'] ) {
			$merged['customer_id'] = (int) $m['customer_id'];
		} elseif ( (int) $merged['customer_id'] !== (int) $m['customer_id'] ) {
			/* translators: 1: a membership id, 2: a customer id. */
			throw new Invalid( 'customer_id', sprintf( __( 'membership %1$s belongs to customer %2$s', 'wpbridge-stub' ), $merged['membership_id'], $m['customer_id'] ) );
		}
	}
	if ( $merged['customer_id'] && ! row( 'customer', (int) $merged['customer_id'] ) ) {
		/* translators: %s: a customer id. */
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

function create_site( Site_Store $store, \WP_REST_Request $request ): mixed {
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
		/* translators: 1: the path given, 2: a site id. */
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
		/* translators: %s: the reason given. */
		return error( 'wu_rest_site', sprintf( __( 'WordPress could not create the site: %s', 'wpbridge-stub' ), $blog_id->get_error_message() ), 400, array( 'field' => 'path' ) );
	}
	save_link( (int) $blog_id, $r );
	return site_by_id( $store, (int) $blog_id );
}

/** `shop`, `/shop` or `/shop/` -> `shop`; lowercase letters, digits and hyphens, not a reserved name. */
function site_slug( mixed $path ): string {
	if ( ! is_string( $path ) ) {
		throw new Invalid( 'path', __( 'is required (e.g. "/shop/")', 'wpbridge-stub' ) );
	}
	$slug = trim( $path, '/' );
	if ( ! preg_match( '/^[a-z0-9][a-z0-9\-]{0,62}$/', $slug ) || ctype_digit( $slug ) ) {
		/* translators: %s: the value given. */
		throw new Invalid( 'path', sprintf( __( 'must be one segment of lowercase letters, digits or hyphens, not only digits (got %s)', 'wpbridge-stub' ), short( $path ) ) );
	}
	if ( in_array( $slug, get_subdirectory_reserved_names(), true ) ) {
		/* translators: %s: a site slug. */
		throw new Invalid( 'path', sprintf( __( '"%s" is reserved by WordPress', 'wpbridge-stub' ), $slug ) );
	}
	if ( ! is_subdomain_install() && main_site_page_exists( $slug ) ) {
		/* translators: %s: a site slug. */
		throw new Invalid( 'path', sprintf( __( 'a site at "/%s/" would hide the main site\'s page of that name', 'wpbridge-stub' ), $slug ) );
	}
	return $slug;
}

/** A write the network's main site may not take (a quota, a membership): 409 naming the site. */
function main_site_refusal( int $blog_id, string $why ): \WP_Error {
	/* translators: 1: a site id, 2: why the write is refused. */
	return error( 'wpbridge_main_site', sprintf( __( 'site %1$d is the network\'s main site: %2$s', 'wpbridge-stub' ), $blog_id, $why ), 409, array( 'field' => 'blog_id' ) );
}

/** Whether the main site has a page `$slug` (as wpmu_validate_blog_signup refuses such a site name). */
function main_site_page_exists( string $slug ): bool {
	global $wpdb;
	$posts = $wpdb->get_blog_prefix( get_main_site_id() ) . 'posts';
	return (bool) $wpdb->get_var( $wpdb->prepare( 'SELECT ID FROM ' . ident( $posts ) . " WHERE post_type = 'page' AND post_name = %s LIMIT 1", $slug ) ); // phpcs:ignore WordPress.DB.PreparedSQL.InterpolatedNotPrepared -- quoted table.
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

function update_site( Site_Store $store, \WP_REST_Request $request ): mixed {
	$id   = url_id( $request );
	$site = site_by_id( $store, $id );
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
	return site_by_id( $store, $id );
}

function delete_site( Site_Store $store, \WP_REST_Request $request ): mixed {
	global $wpdb;
	$id = url_id( $request );
	if ( ! site_by_id( $store, $id ) ) {
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
