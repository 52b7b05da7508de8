<?php
/**
 * Enforcement of each site's quota (blogmeta `wpbridge_quota`) with WordPress's own hooks, for every user of the
 * site, super admins included. A site without a quota, a module that is absent or disabled, and a limit of 0 or ''
 * limit nothing; a `users`/`post_types` entry with `enabled: false` allows none.
 *
 *  - posts: a post of a type at its quota may not become publish/private/future (REST: 403 before the insert;
 *    admin: post-new.php is closed, and a publish over the quota is saved as a draft instead);
 *  - uploads: refused when the file would take the upload directory over `disk_space` MB, or when attachments are
 *    at their `post_types.attachment` quota (REST: 403 before the file is written; elsewhere: the upload prefilter,
 *    and wp_upload_bits for XML-RPC uploads);
 *  - users: adding a member with a role at its `users` quota, or a disabled role, is refused (REST create/update,
 *    add_user_to_blog everywhere; the admin "Add user" screen hides those roles);
 *  - visits: once this month's visits reach `visits`, the front end answers 404 "This site is not available at
 *    this time." (UM's wording); logged-out visits are counted once per browser per day.
 */

namespace WPBridge;

if ( ! defined( 'ABSPATH' ) ) {
	exit;
}

/** Stub mode only (Stub_Limits_Store::hooks()): in UM mode, Ultimate Multisite computes and enforces every limit. */
function enforce_hooks(): void {
	add_filter( 'get_space_allowed', __NAMESPACE__ . '\\space_allowed' );
	add_filter( 'wp_handle_upload_prefilter', __NAMESPACE__ . '\\upload_prefilter' );
	add_filter( 'wp_handle_sideload_prefilter', __NAMESPACE__ . '\\upload_prefilter' );
	add_filter( 'wp_upload_bits', __NAMESPACE__ . '\\upload_bits_check' );
	add_action( 'add_attachment', __NAMESPACE__ . '\\recheck_attachment' );
	add_filter( 'rest_request_before_callbacks', __NAMESPACE__ . '\\rest_guard', 10, 3 );
	add_action( 'rest_api_init', __NAMESPACE__ . '\\hook_rest_post_types', 99 );
	add_filter( 'wp_insert_post_data', __NAMESPACE__ . '\\hold_over_quota_post', 99, 2 );
	add_action( 'transition_post_status', __NAMESPACE__ . '\\recheck_transition', 1, 3 );
	add_action( 'wp_after_insert_post', __NAMESPACE__ . '\\release_post_locks' );
	add_action( 'shutdown', __NAMESPACE__ . '\\release_post_locks' );
	add_action( 'load-post-new.php', __NAMESPACE__ . '\\close_post_new_screen' );
	add_filter( 'can_add_user_to_blog', __NAMESPACE__ . '\\can_add_user', 10, 4 );
	add_action( 'add_user_role', __NAMESPACE__ . '\\recheck_added_role', 10, 2 );
	add_action( 'set_user_role', __NAMESPACE__ . '\\recheck_set_role', 10, 3 );
	add_filter( 'editable_roles', __NAMESPACE__ . '\\addable_roles' );
	add_action( 'template_redirect', __NAMESPACE__ . '\\visits_gate', 0 );
}

function refused( string $message, array $data = array() ): \WP_Error {
	return error( 'wpbridge_quota_exceeded', $message, 403, $data + array( 'blog_id' => get_current_blog_id() ) );
}

// ------------------------------------------------------------------------------------------------------ posts

/**
 * The statuses that hold a place in a post type's quota. Scheduled (`future`) posts hold one too: WP-Cron publishes
 * them later through wp_publish_post(), which no creation check sees.
 */
function place_statuses( string $type ): array {
	return 'attachment' === $type ? array( 'inherit', 'private' ) : array( 'publish', 'private', 'future' );
}

/**
 * Serialise "count, then insert" of one post type on the current site: a named MySQL lock (GET_LOCK), taken by the
 * check and held until the post is written (wp_after_insert_post) or the request ends. Without it, 8 parallel
 * publishes at 9/10 all counted 9. False when the lock could not be had within 10 s.
 */
function post_lock( string $type ): bool {
	global $wpdb;
	$held = &held_post_locks();
	$name = 'wpbridge_posts_' . get_current_blog_id() . '_' . substr( $type, 0, 20 );
	if ( isset( $held[ $name ] ) ) {
		return true;
	}
	if ( '1' !== (string) $wpdb->get_var( $wpdb->prepare( 'SELECT GET_LOCK(%s, 10)', $name ) ) ) {
		return false;
	}
	$held[ $name ] = true;
	return true;
}

function &held_post_locks(): array {
	static $held = array();
	return $held;
}

function release_post_locks(): void {
	global $wpdb;
	$held = &held_post_locks();
	foreach ( array_keys( $held ) as $name ) {
		$wpdb->query( $wpdb->prepare( 'SELECT RELEASE_LOCK(%s)', $name ) );
	}
	$held = array();
}

/**
 * Why a post of `$type` may not take `$status` now (null = allowed). `$post_id` 0 = a new post. With `$reserve`,
 * an allowed post keeps the type's lock until it is written, so a parallel request counts it.
 */
function post_refusal( string $type, string $status, int $post_id = 0, bool $reserve = false ): ?\WP_Error {
	$counted = place_statuses( $type );
	if ( ! in_array( $status, $counted, true ) ) {
		return null;
	}
	$limit = entry_limit( quota( get_current_blog_id() ), 'post_types', $type );
	if ( null === $limit ) {
		return null;
	}
	if ( $post_id ) {
		$old = get_post_status( $post_id );
		if ( $old && in_array( $old, $counted, true ) ) {
			return null; // It already holds its place: an edit, or a scheduled post being published.
		}
	}
	if ( $reserve && ! post_lock( $type ) ) {
		return error( 'wpbridge_busy', __( 'The site is busy; try again.', 'wpbridge-stub' ), 503 );
	}
	$count = post_count_in( $type, $counted, $post_id );
	if ( $count < $limit ) {
		return null;
	}
	$data = array(
		'post_type' => $type,
		'count'     => $count,
		'limit'     => $limit,
	);
	if ( 0 === $limit ) {
		/* translators: %s: a post type. */
		return refused( sprintf( __( 'This site\'s plan does not allow posts of type "%s".', 'wpbridge-stub' ), $type ), $data );
	}
	/* translators: 1: the limit, 2: a post type, 3: the current count. */
	return refused( sprintf( __( 'This site may have at most %1$d published "%2$s" posts and has %3$d; delete one or upgrade the plan.', 'wpbridge-stub' ), $limit, $type, $count ), $data );
}

function hook_rest_post_types(): void {
	foreach ( get_post_types( array( 'show_in_rest' => true ) ) as $type ) {
		if ( 'attachment' !== $type ) {
			add_filter( "rest_pre_insert_$type", __NAMESPACE__ . '\\rest_pre_insert', 10, 2 );
		}
	}
}

function rest_pre_insert( mixed $prepared, \WP_REST_Request $request ): mixed {
	if ( is_wp_error( $prepared ) ) {
		return $prepared;
	}
	$id     = (int) ( $prepared->ID ?? 0 );
	$type   = $prepared->post_type ?? ( $id ? get_post_type( $id ) : 'post' );
	$status = $prepared->post_status ?? ( $id ? get_post_status( $id ) : 'draft' );
	return post_refusal( (string) $type, (string) $status, $id, true ) ?? $prepared;
}

/** Outside REST (admin, XML-RPC, code): a post over the quota is kept as a draft instead. */
function hold_over_quota_post( array $data, array $postarr ): array {
	if ( defined( 'REST_REQUEST' ) && REST_REQUEST ) {
		return $data; // Refused with a proper error by rest_pre_insert.
	}
	if ( 'attachment' !== $data['post_type'] && post_refusal( $data['post_type'], $data['post_status'], (int) ( $postarr['ID'] ?? 0 ), true ) ) {
		$data['post_status'] = 'draft';
	}
	return $data;
}

/**
 * The last word, whatever made the post change status (REST, admin, WP-Cron's wp_publish_post, a plugin): a post
 * that newly takes a place over the quota is put back to draft. A scheduled post being published competes only with
 * the published ones (it held its place while scheduled).
 */
function recheck_transition( string $new, string $old, \WP_Post $post ): void {
	global $wpdb;
	$type = $post->post_type;
	if ( 'attachment' === $type || $new === $old ) {
		return;
	}
	$counted = place_statuses( $type );
	if ( ! in_array( $new, $counted, true ) || ( in_array( $old, $counted, true ) && 'future' !== $old ) ) {
		return;
	}
	$limit = entry_limit( quota( get_current_blog_id() ), 'post_types', $type );
	if ( null === $limit ) {
		return;
	}
	post_lock( $type );
	$others = 'future' === $old ? array( 'publish', 'private' ) : $counted;
	if ( post_count_in( $type, $others, (int) $post->ID ) >= $limit ) {
		$wpdb->update( $wpdb->posts, array( 'post_status' => 'draft' ), array( 'ID' => (int) $post->ID ) );
		clean_post_cache( (int) $post->ID );
		$post->post_status = 'draft';
	}
}

function close_post_new_screen(): void {
	$type  = isset( $_GET['post_type'] ) && is_string( $_GET['post_type'] ) ? sanitize_key( wp_unslash( $_GET['post_type'] ) ) : 'post';
	$error = post_refusal( $type, 'attachment' === $type ? 'inherit' : 'publish' );
	if ( $error ) {
		wp_die( esc_html( $error->get_error_message() ), 403 );
	}
}

// ---------------------------------------------------------------------------------------------------- uploads

function space_allowed( mixed $mb ): mixed {
	$limit = number_limit( quota( get_current_blog_id() ), 'disk_space' );
	return null === $limit ? $mb : $limit;
}

/** Why an upload of `$bytes` may not be stored on the current site now (null = allowed). */
function upload_refusal( int $bytes ): ?\WP_Error {
	$blog  = get_current_blog_id();
	$limit = number_limit( quota( $blog ), 'disk_space' );
	if ( null !== $limit ) {
		$used = disk_used_bytes( $blog );
		if ( $used + $bytes > $limit * MB_IN_BYTES ) {
			return refused(
				/* translators: 1: the limit in MB, 2: MB used, 3: MB the file needs. */
				sprintf( __( 'Not enough disk space: this site may use %1$d MB, uses %2$.2f MB, and the file needs %3$.2f MB.', 'wpbridge-stub' ), $limit, $used / MB_IN_BYTES, $bytes / MB_IN_BYTES ),
				array(
					'limit_mb' => $limit,
					'used_mb'  => round( $used / MB_IN_BYTES, 2 ),
				)
			);
		}
	}
	return post_refusal( 'attachment', 'inherit' );
}

/**
 * wp_handle_upload_prefilter / wp_handle_sideload_prefilter: every upload WordPress stores goes through one of
 * them. The size is the file's own (the REST raw-body upload passes no `size`).
 */
function upload_prefilter( array $file ): array {
	if ( empty( $file['error'] ) ) {
		$tmp   = (string) ( $file['tmp_name'] ?? '' );
		$bytes = '' !== $tmp && is_file( $tmp ) ? (int) filesize( $tmp ) : (int) ( $file['size'] ?? 0 );
		$error = upload_refusal( $bytes );
		if ( $error ) {
			$file['error'] = $error->get_error_message();
		}
	}
	return $file;
}

/**
 * wp_upload_bits (XML-RPC's wp.uploadFile / metaWeblog.newMediaObject, and plugins writing bytes directly): the
 * bytes are checked as an upload of their size; a string returned is WordPress's error for the call.
 */
function upload_bits_check( mixed $args ): mixed {
	if ( ! is_array( $args ) ) {
		return $args; // Already refused by another filter.
	}
	$error = upload_refusal( strlen( (string) ( $args['bits'] ?? '' ) ) );
	return $error ? $error->get_error_message() : $args;
}

/**
 * add_attachment, the last word for any path that creates an attachment (media edits, sideloads by plugins): an
 * attachment over the count is deleted again, with its file.
 */
function recheck_attachment( int $post_id ): void {
	$limit = entry_limit( quota( get_current_blog_id() ), 'post_types', 'attachment' );
	if ( null !== $limit && post_count_in( 'attachment', place_statuses( 'attachment' ), $post_id ) >= $limit ) {
		wp_delete_attachment( $post_id, true );
	}
}

// ------------------------------------------------------------------------------------- REST guard: media, users

/**
 * Before a core REST callback runs (and before it writes a file or creates a user), decided by the handler that
 * WordPress matched (never by the route's spelling: WordPress matches routes case-insensitively): attachment
 * uploads and media edits, and role assignments through the users controller. Ids are read the way the core
 * controller reads them (`$request['id']`), so the check is about the record core will change. Only for logged-in
 * requests: anonymous ones get core's 401 unchanged.
 */
function rest_guard( mixed $response, array $handler, \WP_REST_Request $request ): mixed {
	if ( is_wp_error( $response ) || ! is_user_logged_in() ) {
		return $response;
	}
	$cb = $handler['callback'] ?? null;
	if ( ! is_array( $cb ) || ! is_object( $cb[0] ?? null ) || ! is_string( $cb[1] ?? null ) ) {
		return $response;
	}
	list( $controller, $method ) = $cb;
	if ( $controller instanceof \WP_REST_Attachments_Controller && 'create_item' === $method ) {
		$files = $request->get_file_params();
		$bytes = isset( $files['file']['size'] ) ? (int) $files['file']['size'] : strlen( (string) $request->get_body() );
		return upload_refusal( $bytes ) ?? $response;
	}
	if ( $controller instanceof \WP_REST_Attachments_Controller && 'edit_media_item' === $method ) {
		$file = get_attached_file( (int) $request['id'] );
		return upload_refusal( $file && is_file( $file ) ? (int) filesize( $file ) : 0 ) ?? $response;
	}
	if ( $controller instanceof \WP_REST_Users_Controller && in_array( $method, array( 'create_item', 'update_item', 'update_current_item' ), true ) ) {
		$user_id = 'create_item' === $method ? 0 : ( 'update_current_item' === $method ? get_current_user_id() : (int) $request['id'] );
		if ( $user_id && ! isset( $request['roles'] ) ) {
			return $response;
		}
		$roles = (array) ( $request['roles'] ?? array( get_option( 'default_role', 'subscriber' ) ) );
		$user  = $user_id ? get_userdata( $user_id ) : false;
		$held  = $user && is_user_member_of_blog( $user_id ) ? $user->roles : array();
		foreach ( $roles as $role ) {
			if ( is_string( $role ) && ! in_array( $role, $held, true ) ) {
				$error = role_refusal( get_current_blog_id(), $role );
				if ( $error ) {
					return $error;
				}
			}
		}
	}
	return $response;
}

// ------------------------------------------------------------------------------------------------------ users

/** Why one more member with `$role` may not join blog `$blog_id` (null = allowed). */
function role_refusal( int $blog_id, string $role ): ?\WP_Error {
	$limit = entry_limit( quota( $blog_id ), 'users', $role );
	if ( null === $limit ) {
		return null;
	}
	$count = role_count( $blog_id, $role );
	if ( $count < $limit ) {
		return null;
	}
	$data = array(
		'role'    => $role,
		'count'   => $count,
		'limit'   => $limit,
		'blog_id' => $blog_id,
	);
	if ( 0 === $limit ) {
		/* translators: %s: a role. */
		return refused( sprintf( __( 'This site\'s plan does not allow users with the role "%s".', 'wpbridge-stub' ), $role ), $data );
	}
	/* translators: 1: the limit, 2: a role, 3: how many there are. */
	return refused( sprintf( __( 'This site may have at most %1$s users with the role "%2$s" and has %3$s.', 'wpbridge-stub' ), $limit, $role, $count ), $data );
}

function can_add_user( mixed $can, int $user_id, string $role, int $blog_id ): mixed {
	if ( true !== $can || '' === $role ) {
		return $can;
	}
	global $wpdb;
	$caps = get_user_meta( $user_id, $wpdb->get_blog_prefix( $blog_id ) . 'capabilities', true );
	if ( is_array( $caps ) && ! empty( $caps[ $role ] ) ) {
		return $can; // Already a member with that role.
	}
	return role_refusal( $blog_id, $role ) ?? $can;
}

function &reverting_role(): bool {
	static $reverting = false;
	return $reverting;
}

/**
 * The WP_User whose `$method` (add_role, set_role) fired the running role hook: the hooks pass no blog, and the
 * user may be one of another blog of the network (`new WP_User( $id, '', $blog )`, `for_site()`), not the current.
 */
function role_hook_user( string $method ): ?\WP_User {
	// phpcs:ignore WordPress.PHP.DevelopmentFunctions.error_log_debug_backtrace -- the role hooks pass no WP_User.
	foreach ( debug_backtrace( DEBUG_BACKTRACE_PROVIDE_OBJECT | DEBUG_BACKTRACE_IGNORE_ARGS, 16 ) as $frame ) {
		if ( $method === ( $frame['function'] ?? '' ) && ( $frame['object'] ?? null ) instanceof \WP_User ) {
			return $frame['object'];
		}
	}
	return null;
}

/** The blog a role hook's change was made for (the WP_User's site, else the current blog). */
function role_hook_blog( string $method ): int {
	$user = role_hook_user( $method );
	return $user ? (int) $user->get_site_id() : get_current_blog_id();
}

/**
 * Undo a role given over its quota on blog `$blog`: `$undo` runs with the role hooks silenced (its own role
 * changes must not be rechecked). Nothing happens when the role has room or when a revert is already running.
 */
function revert_role_over_quota( int $blog, string $role, callable $undo ): void {
	if ( reverting_role() ) {
		return;
	}
	$limit = entry_limit( quota( $blog ), 'users', $role );
	if ( null === $limit || role_count( $blog, $role ) <= $limit ) {
		return;
	}
	$flag = &reverting_role();
	$flag = true;
	try {
		$undo( $blog );
	} finally {
		$flag = false;
	}
}

/**
 * add_user_role (WP_User::add_role, as REST and add_user_to_blog use it), the last word for roles: a role added
 * over its quota on the user's blog is removed again. Inside WP_User::set_role it waits for set_user_role, which
 * puts the old roles back (removing the role here would leave the user with no role at all on the site).
 */
function recheck_added_role( int $user_id, string $role ): void {
	if ( role_hook_user( 'set_role' ) ) {
		return;
	}
	revert_role_over_quota( role_hook_blog( 'add_role' ), $role, fn( int $blog ) => ( new \WP_User( $user_id, '', $blog ) )->remove_role( $role ) );
}

/** set_user_role (WP_User::set_role: user-edit screen, promotions, plugins): over the quota, the old roles return. */
function recheck_set_role( int $user_id, string $role, array $old_roles ): void {
	if ( '' === $role || in_array( $role, $old_roles, true ) ) {
		return;
	}
	revert_role_over_quota(
		role_hook_blog( 'set_role' ),
		$role,
		function ( int $blog ) use ( $user_id, $role, $old_roles ): void {
			$user = new \WP_User( $user_id, '', $blog );
			$user->remove_role( $role );
			foreach ( $old_roles as $old ) {
				$user->add_role( $old );
			}
		}
	);
}

/** The admin "Add user" screen offers only roles that still have room. */
function addable_roles( array $roles ): array {
	if ( ( $GLOBALS['pagenow'] ?? '' ) !== 'user-new.php' ) {
		return $roles;
	}
	foreach ( array_keys( $roles ) as $role ) {
		if ( role_refusal( get_current_blog_id(), (string) $role ) ) {
			unset( $roles[ $role ] );
		}
	}
	return $roles;
}

// ----------------------------------------------------------------------------------------------------- visits

function visits_gate(): void {
	if ( is_admin() || wp_doing_ajax() || ( defined( 'REST_REQUEST' ) && REST_REQUEST ) || is_robots() || is_favicon() || is_feed() ) {
		return; // Only page views of the site count (UM counts them from the browser).
	}
	$blog  = get_current_blog_id();
	$limit = number_limit( quota( $blog ), 'visits' );
	if ( null !== $limit && ( visits_this_month( array( $blog ) )[ $blog ] ?? 0 ) >= $limit ) {
		wp_die( esc_html__( 'This site is not available at this time.', 'wpbridge-stub' ), '', array( 'response' => 404 ) );
	}
	count_visit();
}
