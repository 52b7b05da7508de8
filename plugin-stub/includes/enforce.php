<?php
/**
 * Enforcement of each site's quota (blogmeta `wpbridge_quota`) with WordPress's own hooks, for every user of the
 * site, super admins included. A site without a quota, a module that is absent or disabled, and a limit of 0 or ''
 * limit nothing; a `users`/`post_types` entry with `enabled: false` allows none.
 *
 *  - posts: a post of a type at its quota may not become publish/private/future (REST: 403 before the insert;
 *    admin: post-new.php is closed, and a publish over the quota is saved as a draft instead);
 *  - uploads: refused when the file would take the upload directory over `disk_space` MB, or when attachments are
 *    at their `post_types.attachment` quota (REST: 403 before the file is written; elsewhere: the upload prefilter);
 *  - users: adding a member with a role at its `users` quota, or a disabled role, is refused (REST create/update,
 *    add_user_to_blog everywhere; the admin "Add user" screen hides those roles);
 *  - visits: once this month's visits reach `visits`, the front end answers 404 "This site is not available at
 *    this time." (UM's wording); logged-out visits are counted once per browser per day.
 */

namespace WPBridge;

function enforce_hooks(): void {
	add_filter( 'get_space_allowed', __NAMESPACE__ . '\\space_allowed' );
	add_filter( 'wp_handle_upload_prefilter', __NAMESPACE__ . '\\upload_prefilter' );
	add_filter( 'wp_handle_sideload_prefilter', __NAMESPACE__ . '\\upload_prefilter' );
	add_filter( 'rest_request_before_callbacks', __NAMESPACE__ . '\\rest_guard', 10, 3 );
	add_action( 'rest_api_init', __NAMESPACE__ . '\\hook_rest_post_types', 99 );
	add_filter( 'wp_insert_post_data', __NAMESPACE__ . '\\hold_over_quota_post', 99, 2 );
	add_action( 'load-post-new.php', __NAMESPACE__ . '\\close_post_new_screen' );
	add_filter( 'can_add_user_to_blog', __NAMESPACE__ . '\\can_add_user', 10, 4 );
	add_filter( 'editable_roles', __NAMESPACE__ . '\\addable_roles' );
	add_action( 'template_redirect', __NAMESPACE__ . '\\visits_gate', 0 );
}

function refused( string $message, array $data = array() ): \WP_Error {
	return error( 'wpbridge_quota_exceeded', $message, 403, $data + array( 'blog_id' => get_current_blog_id() ) );
}

// ------------------------------------------------------------------------------------------------------ posts

/** Why a post of `$type` may not take `$status` now (null = allowed). `$post_id` 0 = a new post. */
function post_refusal( string $type, string $status, int $post_id = 0 ): ?\WP_Error {
	$counted = 'attachment' === $type ? array( 'inherit', 'private' ) : array( 'publish', 'private', 'future' );
	if ( ! in_array( $status, $counted, true ) ) {
		return null;
	}
	$limit = entry_limit( quota( get_current_blog_id() ), 'post_types', $type );
	if ( null === $limit ) {
		return null;
	}
	if ( $post_id ) {
		$old = get_post_status( $post_id );
		if ( $old && in_array( $old, $counted, true ) && 'future' !== $old ) {
			return null; // Already counted: an edit, not a new one.
		}
	}
	$count = post_count( $type );
	if ( $count < $limit ) {
		return null;
	}
	$data = array(
		'post_type' => $type,
		'count'     => $count,
		'limit'     => $limit,
	);
	if ( 0 === $limit ) {
		return refused( "This site's plan does not allow posts of type \"$type\".", $data );
	}
	return refused( "This site may have at most $limit published \"$type\" posts and has $count; delete one or upgrade the plan.", $data );
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
	return post_refusal( (string) $type, (string) $status, $id ) ?? $prepared;
}

/** Outside REST (admin, XML-RPC, code): a publish over the quota is kept as a draft instead. */
function hold_over_quota_post( array $data, array $postarr ): array {
	if ( defined( 'REST_REQUEST' ) && REST_REQUEST ) {
		return $data; // Refused with a proper error by rest_pre_insert.
	}
	if ( 'attachment' !== $data['post_type'] && post_refusal( $data['post_type'], $data['post_status'], (int) ( $postarr['ID'] ?? 0 ) ) ) {
		$data['post_status'] = 'draft';
	}
	return $data;
}

function close_post_new_screen(): void {
	$type  = isset( $_GET['post_type'] ) ? sanitize_key( $_GET['post_type'] ) : 'post';
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
				sprintf( 'Not enough disk space: this site may use %d MB, uses %.2f MB, and the file needs %.2f MB.', $limit, $used / MB_IN_BYTES, $bytes / MB_IN_BYTES ),
				array(
					'limit_mb' => $limit,
					'used_mb'  => round( $used / MB_IN_BYTES, 2 ),
				)
			);
		}
	}
	return post_refusal( 'attachment', 'inherit' );
}

function upload_prefilter( array $file ): array {
	if ( empty( $file['error'] ) ) {
		$error = upload_refusal( (int) ( $file['size'] ?? 0 ) );
		if ( $error ) {
			$file['error'] = $error->get_error_message();
		}
	}
	return $file;
}

// ------------------------------------------------------------------------------------- REST guard: media, users

/**
 * Before a core REST callback runs (and before it writes a file or creates a user): uploads to /wp/v2/media and
 * role assignments through /wp/v2/users. Only for logged-in requests: anonymous ones get core's 401 unchanged.
 */
function rest_guard( mixed $response, array $handler, \WP_REST_Request $request ): mixed {
	if ( is_wp_error( $response ) || ! is_user_logged_in() ) {
		return $response;
	}
	$route  = $request->get_route();
	$method = $request->get_method();
	if ( 'POST' === $method && '/wp/v2/media' === $route ) {
		$files = $request->get_file_params();
		$bytes = isset( $files['file']['size'] ) ? (int) $files['file']['size'] : strlen( (string) $request->get_body() );
		return upload_refusal( $bytes ) ?? $response;
	}
	if ( in_array( $method, array( 'POST', 'PUT', 'PATCH' ), true ) && preg_match( '#^/wp/v2/users(?:/(\d+|me))?$#', $route, $m ) ) {
		$user_id = isset( $m[1] ) ? ( 'me' === $m[1] ? get_current_user_id() : (int) $m[1] ) : 0;
		if ( $user_id && ! isset( $request['roles'] ) ) {
			return $response;
		}
		$roles = (array) ( $request['roles'] ?? array( get_option( 'default_role', 'subscriber' ) ) );
		$held  = $user_id && is_user_member_of_blog( $user_id ) ? get_userdata( $user_id )->roles : array();
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
		return refused( "This site's plan does not allow users with the role \"$role\".", $data );
	}
	return refused( "This site may have at most $limit users with the role \"$role\" and has $count.", $data );
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
		wp_die( 'This site is not available at this time.', '', array( 'response' => 404 ) );
	}
	count_visit();
}
