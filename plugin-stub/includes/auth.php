<?php
/**
 * Authentication of every route in both namespaces: HTTP Basic with the network's API key and secret (network
 * options `wpbridge_api_key` / `wpbridge_api_secret`, compared in constant time, never logged or echoed), or a
 * logged-in user who may manage the network's options (`manage_network_options`: super admins; in practice an
 * application password). Secrets in the query string or body are refused
 * unless the network option `wpbridge_allow_query_auth` is on: URLs end up in server logs and proxies.
 */

namespace WPBridge;

if ( ! defined( 'ABSPATH' ) ) {
	exit;
}

const CREDENTIAL_KEYS = array( 'api_key', 'api-key', 'api_secret', 'api-secret' );

/** True when the request's Basic credentials are the network's API key and secret. */
function basic_credentials_ok(): bool {
	if ( ! isset( $_SERVER['PHP_AUTH_USER'], $_SERVER['PHP_AUTH_PW'] ) ) {
		return false;
	}
	// WordPress adds slashes to $_SERVER (wp_magic_quotes); a secret with a quote or backslash must still match.
	return credentials_match( (string) wp_unslash( $_SERVER['PHP_AUTH_USER'] ), (string) wp_unslash( $_SERVER['PHP_AUTH_PW'] ) );
}

/**
 * The pairs that open the API: plugin-stub's own (network options), and in UM mode also Ultimate Multisite's
 * (settings `api_key` / `api_secret`), so that a UM network needs one pair for `wu/v2` and `wpbridge/v1` alike.
 */
function credentials_match( string $key, string $secret ): bool {
	$pairs = array_merge(
		array( array( (string) get_site_option( 'wpbridge_api_key', '' ), (string) get_site_option( 'wpbridge_api_secret', '' ) ) ),
		flavor()->credential_pairs()
	);
	$ok = false;
	foreach ( $pairs as list( $want_key, $want_secret ) ) {
		if ( '' === $want_key || '' === $want_secret ) {
			continue; // Not configured: nothing matches (UM's 'prevent').
		}
		$key_ok    = hash_equals( $want_key, $key );
		$secret_ok = hash_equals( $want_secret, $secret );
		$ok        = $ok || ( $key_ok && $secret_ok );
	}
	return $ok;
}

/** Credentials sent as parameters (query string or body), as UM also accepts; null when none were sent. */
function param_credentials( \WP_REST_Request $request ): ?array {
	$params = $request->get_query_params();
	$json   = $request->get_json_params();
	if ( is_array( $json ) ) {
		$params += $json;
	}
	$params += $request->get_body_params();
	$found   = false;
	foreach ( CREDENTIAL_KEYS as $k ) {
		$found = $found || array_key_exists( $k, $params );
	}
	if ( ! $found ) {
		return null;
	}
	$key    = $params['api_key'] ?? $params['api-key'] ?? '';
	$secret = $params['api_secret'] ?? $params['api-secret'] ?? '';
	return array( is_string( $key ) ? $key : '', is_string( $secret ) ? $secret : '' );
}

/** permission_callback of every route. */
function permission( \WP_REST_Request $request ): bool|\WP_Error {
	$params = param_credentials( $request );
	if ( null !== $params ) {
		if ( ! get_site_option( 'wpbridge_allow_query_auth', false ) ) {
			return error(
				'wpbridge_query_auth_disabled',
				__( 'API credentials in the URL or body are refused; send them with HTTP Basic auth.', 'wpbridge-stub' ),
				401
			);
		}
		if ( credentials_match( $params[0], $params[1] ) ) {
			return true;
		}
	}
	if ( basic_credentials_ok() || current_user_can( 'manage_network_options' ) ) {
		return true;
	}
	return error( 'rest_forbidden', __( 'Sorry, you are not allowed to do that.', 'wpbridge-stub' ), rest_authorization_required_code() );
}

/**
 * WordPress core treats every Basic header as a possible application password; for our API key it records an
 * `invalid_username` error that `rest_application_password_check_errors` (priority 90) would turn into a 401.
 * When the Basic credentials are our API key and secret, report "no authentication error" first (priority 89),
 * like UM's `maybe_bypass_wp_auth`. The request still runs without a WordPress user, so core routes treat it as
 * anonymous; only our permission callbacks accept it.
 */
function bypass_core_auth_errors( mixed $result ): mixed {
	if ( ! empty( $result ) ) {
		return $result;
	}
	return basic_credentials_ok() ? true : $result;
}

/** Drop credential keys from a write body (UM's `is_not_credential_key`). */
function without_credentials( array $body ): array {
	return array_diff_key( $body, array_flip( CREDENTIAL_KEYS ) );
}
