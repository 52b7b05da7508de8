<?php
/**
 * Request-level guards of the plugin's own routes (`wpbridge/v1`, `wu/v2`), before any of their code runs:
 *  - a body over the cap (1 MiB; filter `wpbridge_max_body_bytes`) is a 413 `wpbridge_too_large`, decided from
 *    Content-Length and the body's length before WordPress decodes the JSON (a 9 MB body once ran PHP out of
 *    memory after it was stored); a batch item over the cap is the same 413 (to anyone: it is decided before
 *    authentication, and answered as a response, since a WP_Error there made WordPress fatal);
 *  - a caller who may not use these routes is refused (401/403) before WordPress validates their arguments
 *    (WordPress validates `args` before `permission_callback`: a 400 once described the schema to anyone); a batch
 *    item is refused the same way, but after WordPress validated the batch's items (core does that first);
 *  - in a batch, a PUT/POST/PATCH item to these routes without a `body`, or whose `body` is not a JSON object
 *    (`[]` included), is a 400 for the whole batch: WordPress hands an item its body as body params and drops an
 *    empty one, so the item itself cannot tell "no body" or `[]` (refused) from `{}`.
 *
 * @package WPBridge
 */

namespace WPBridge;

if ( ! defined( 'ABSPATH' ) ) {
	exit;
}

const MAX_BODY_BYTES = 1048576;

function guard_hooks(): void {
	add_filter( 'rest_pre_dispatch', __NAMESPACE__ . '\\refuse_big_body', 5, 3 );
	add_filter( 'rest_pre_dispatch', __NAMESPACE__ . '\\refuse_unauthenticated', 6, 3 );
	add_filter( 'rest_request_before_callbacks', __NAMESPACE__ . '\\check_batch', 5, 3 );
	add_filter( 'rest_request_after_callbacks', __NAMESPACE__ . '\\leave_batch', 5, 3 );
}

/** True for a route of this plugin. WordPress matches routes case-insensitively, so this does too. */
function is_own_route( string $route ): bool {
	$route = strtolower( '/' . ltrim( $route, '/' ) );
	foreach ( array( '/' . NS, '/' . WU_NAMESPACE ) as $ns ) {
		if ( $route === $ns || str_starts_with( $route, $ns . '/' ) ) {
			return true;
		}
	}
	return false;
}

function max_body_bytes(): int {
	return max( 1024, (int) apply_filters( 'wpbridge_max_body_bytes', MAX_BODY_BYTES ) );
}

/** rest_pre_dispatch: a 413 for a body over the cap, before the route's handler (or WordPress) decodes it. */
function refuse_big_body( mixed $result, \WP_REST_Server $server, \WP_REST_Request $request ): mixed {
	if ( null !== $result || ! is_own_route( $request->get_route() ) ) {
		return $result;
	}
	$length = (int) $request->get_header( 'content_length' );
	$size   = max( $length, strlen( (string) $request->get_body() ) );
	if ( '' === (string) $request->get_body() && $request->get_body_params() ) {
		$size = max( $size, strlen( (string) wp_json_encode( $request->get_body_params() ) ) ); // A batch item.
	}
	$error = too_large( $size );
	// A response, never a WP_Error: in a batch, WordPress hands a rest_pre_dispatch result straight to
	// rest_post_dispatch, whose rest_send_allow_header() fatals on a WP_Error (a 500 before authentication).
	return $error ? rest_convert_error_to_response( $error ) : $result;
}

/** The 413 `wpbridge_too_large` for a body of `$size` bytes over the cap; null within it. */
function too_large( int $size ): ?\WP_Error {
	$cap = max_body_bytes();
	if ( $size <= $cap ) {
		return null;
	}
	return error(
		'wpbridge_too_large',
		/* translators: 1: body size in bytes, 2: the cap in bytes. */
		sprintf( __( 'The request body has %1$d bytes; at most %2$d are accepted.', 'wpbridge-stub' ), $size, $cap ),
		413,
		array( 'max_bytes' => $cap )
	);
}

/**
 * rest_pre_dispatch: a caller who may not use the plugin's routes is refused before WordPress validates the
 * route's arguments (WordPress checks `args` before `permission_callback`, so an anonymous caller once got a 400
 * that described the schema). Only the routes this plugin serves: `wpbridge/v1`, and `wu/v2` when the flavor
 * serves it (in UM mode UM's own routes keep UM's rules). Batch items come here too, after WordPress validated
 * them (each item then answers its own 401).
 */
function refuse_unauthenticated( mixed $result, \WP_REST_Server $server, \WP_REST_Request $request ): mixed {
	if ( null !== $result || ! is_served_route( $request->get_route() ) ) {
		return $result;
	}
	$allowed = permission( $request );
	return is_wp_error( $allowed ) ? rest_convert_error_to_response( $allowed ) : $result;
}

/** True for a route this plugin serves on this network (see refuse_unauthenticated()). */
function is_served_route( string $route ): bool {
	$route = strtolower( '/' . ltrim( $route, '/' ) );
	$ns    = array( '/' . NS );
	if ( flavor()->serves_wu_v2() ) {
		$ns[] = '/' . WU_NAMESPACE;
	}
	foreach ( $ns as $n ) {
		if ( $route === $n || str_starts_with( $route, $n . '/' ) ) {
			return true;
		}
	}
	return false;
}

function &batch_depth(): int {
	static $depth = 0;
	return $depth;
}

/** True while WordPress runs the items of a `/batch/v1` request. */
function in_batch(): bool {
	return batch_depth() > 0;
}

function is_batch_handler( array $handler ): bool {
	$cb = $handler['callback'] ?? null;
	return is_array( $cb ) && ( $cb[0] ?? null ) instanceof \WP_REST_Server && 'serve_batch_request_v1' === ( $cb[1] ?? null );
}

/** rest_request_before_callbacks of the batch route: every write item to our routes must carry a body. */
function check_batch( mixed $response, array $handler, \WP_REST_Request $request ): mixed {
	if ( ! is_batch_handler( $handler ) || is_wp_error( $response ) ) {
		return $response;
	}
	$requests = $request['requests'];
	foreach ( is_array( $requests ) ? $requests : array() as $item ) {
		$path = (string) wp_parse_url( (string) ( $item['path'] ?? '' ), PHP_URL_PATH );
		if ( is_served_route( $path ) ) {
			$error = too_large( strlen( (string) wp_json_encode( $item['body'] ?? null ) ) ); // A 413 to anyone.
			if ( $error ) {
				return $error;
			}
		}
	}
	$raw      = json_decode( (string) $request->get_body() ); // Objects stay objects: `[]` is not `{}` here.
	$raw      = is_object( $raw ) && isset( $raw->requests ) && is_array( $raw->requests ) ? $raw->requests : array();
	foreach ( is_array( $requests ) ? $requests : array() as $i => $item ) {
		$method = strtoupper( (string) ( $item['method'] ?? 'POST' ) );
		$path   = (string) wp_parse_url( (string) ( $item['path'] ?? '' ), PHP_URL_PATH );
		if ( ! in_array( $method, array( 'POST', 'PUT', 'PATCH' ), true ) || ! is_own_route( $path ) ) {
			continue;
		}
		if ( ! isset( $item['body'] ) ) {
			/* translators: 1: the position of the request in the batch, 2: its method, 3: its path. */
			return invalid_error( new Invalid( '(body)', sprintf( __( 'is required: request %1$s (%2$s %3$s) has no body', 'wpbridge-stub' ), $i, $method, $path ) ) );
		}
		$sent = is_object( $raw[ $i ] ?? null ) ? ( $raw[ $i ]->body ?? null ) : null;
		if ( ! is_object( $sent ) ) {
			/* translators: 1: the position of the request in the batch, 2: its method, 3: its path. */
			return invalid_error( new Invalid( '(body)', sprintf( __( 'must be a JSON object: request %1$s (%2$s %3$s)', 'wpbridge-stub' ), $i, $method, $path ) ) );
		}
	}
	$depth = &batch_depth();
	++$depth;
	return $response;
}

function leave_batch( mixed $response, array $handler, \WP_REST_Request $request ): mixed {
	if ( is_batch_handler( $handler ) && in_batch() ) {
		$depth = &batch_depth();
		--$depth;
	}
	return $response;
}
