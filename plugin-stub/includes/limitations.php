<?php
/**
 * UM's `wu_limitations` structure: validation (a malformed module is a 400 naming e.g. `users.limit.editor.number`)
 * and JSON output (empty maps as `{}`). Used by product/membership/site records and by the quota route.
 */

namespace WPBridge;

if ( ! defined( 'ABSPATH' ) ) {
	exit;
}

const NUMBER_MODULES = array( 'visits', 'disk_space', 'sites' );
const MAP_MODULES    = array( 'users', 'post_types' );
const MODULES        = array(
	'visits',
	'disk_space',
	'sites',
	'users',
	'post_types',
	'themes',
	'plugins',
	'site_templates',
	'domain_mapping',
	'customer_user_role',
	'hide_credits',
);

/**
 * Validate a limitations object and return it normalised (numeric strings become ints; '' and null are kept:
 * both mean "unlimited"/"not set" to UM). `$prefix` is prepended to field names in errors.
 */
function validate_limitations( mixed $value, string $prefix = '' ): array {
	$where = fn( string $f ) => '' === $prefix ? $f : "$prefix.$f";
	if ( null === $value || false === $value || '' === $value ) {
		return array();
	}
	if ( is_string( $value ) ) {
		$value = json_decode( $value, true );
	}
	if ( ! is_map( $value ) ) {
		throw new Invalid( '' === $prefix ? '(body)' : $prefix, __( 'must be an object of limitation modules', 'wpbridge-stub' ) );
	}
	$out = array();
	foreach ( $value as $name => $module ) {
		$name = (string) $name;
		$f    = $where( $name );
		if ( ! in_array( $name, MODULES, true ) ) {
			/* translators: %s: the module names. */
			throw new Invalid( $f, sprintf( __( 'unknown module (known: %s)', 'wpbridge-stub' ), implode( ', ', MODULES ) ) );
		}
		if ( is_string( $module ) && str_starts_with( trim( $module ), '{' ) ) {
			$module = json_decode( $module, true ); // UM stores some modules as JSON strings.
		}
		if ( ! is_map( $module ) ) {
			throw new Invalid( $f, __( 'must be an object {"enabled": bool, "limit": ...}', 'wpbridge-stub' ) );
		}
		$out[ $name ] = validate_module( $name, $module, $f );
	}
	return $out;
}

function validate_module( string $name, array $module, string $f ): array {
	$allowed = array( 'enabled', 'limit', 'mode' );
	foreach ( array_keys( $module ) as $k ) {
		if ( ! in_array( (string) $k, $allowed, true ) ) {
			throw new Invalid( "$f.$k", __( 'unknown key (allowed: enabled, limit, mode)', 'wpbridge-stub' ) );
		}
	}
	$out = array( 'enabled' => array_key_exists( 'enabled', $module ) ? to_bool( $module['enabled'], "$f.enabled" ) : ( 'hide_credits' !== $name ) );
	if ( array_key_exists( 'mode', $module ) ) {
		$out['mode'] = null === $module['mode'] ? null : to_string( $module['mode'], "$f.mode", 50 );
	}
	$limit = $module['limit'] ?? null;
	$lf    = "$f.limit";
	if ( in_array( $name, NUMBER_MODULES, true ) ) {
		$out['limit'] = ( null === $limit || '' === $limit ) ? $limit : to_int( $limit, $lf, 0 );
	} elseif ( in_array( $name, MAP_MODULES, true ) ) {
		$out['limit'] = validate_quota_map( $limit, $lf );
	} elseif ( 'themes' === $name ) {
		$out['limit'] = validate_rule_map( $limit, $lf, array( 'visible', 'hidden' ), array( 'available', 'not_available', 'force_active' ) );
	} elseif ( 'plugins' === $name ) {
		$out['limit'] = validate_rule_map(
			$limit,
			$lf,
			array( 'visible', 'hidden' ),
			array( 'default', 'force_active', 'force_inactive', 'force_active_locked', 'force_inactive_locked' )
		);
	} elseif ( 'site_templates' === $name ) {
		$out['limit'] = null === $limit ? null : validate_rule_map( $limit, $lf, null, array( 'available', 'not_available', 'pre_selected' ) );
	} elseif ( 'domain_mapping' === $name ) {
		$out['limit'] = ( null === $limit || is_bool( $limit ) ) ? $limit : to_int( $limit, $lf, 0 );
	} elseif ( 'customer_user_role' === $name ) {
		$out['limit'] = null === $limit ? null : to_string( $limit, $lf, 50 );
	} else { // hide_credits
		$out['limit'] = null === $limit ? null : to_bool( $limit, $lf );
	}
	return $out;
}

/** `{"editor": {"enabled": true, "number": 3}}`: number 0 or '' = unlimited; enabled false = not allowed. */
function validate_quota_map( mixed $limit, string $f ): array {
	if ( null === $limit || '' === $limit ) {
		return array();
	}
	if ( ! is_map( $limit ) ) {
		throw new Invalid( $f, __( 'must be an object {"<name>": {"enabled": bool, "number": int}}', 'wpbridge-stub' ) );
	}
	$out = array();
	foreach ( $limit as $key => $entry ) {
		$key = (string) $key;
		if ( ! preg_match( '/^[a-z0-9_\-]{1,50}$/', $key ) ) {
			throw new Invalid( "$f.$key", __( 'is not a valid role or post type name', 'wpbridge-stub' ) );
		}
		if ( ! is_map( $entry ) ) {
			throw new Invalid( "$f.$key", __( 'must be an object {"enabled": bool, "number": int}', 'wpbridge-stub' ) );
		}
		foreach ( array_keys( $entry ) as $k ) {
			if ( ! in_array( (string) $k, array( 'enabled', 'number' ), true ) ) {
				throw new Invalid( "$f.$key.$k", __( 'unknown key (allowed: enabled, number)', 'wpbridge-stub' ) );
			}
		}
		$number      = $entry['number'] ?? null;
		$out[ $key ] = array(
			'enabled' => array_key_exists( 'enabled', $entry ) ? to_bool( $entry['enabled'], "$f.$key.enabled" ) : true,
			'number'  => ( null === $number || '' === $number ) ? $number : to_int( $number, "$f.$key.number", 0 ),
		);
	}
	return $out;
}

function validate_rule_map( mixed $limit, string $f, ?array $visibilities, array $behaviors ): array {
	if ( null === $limit || '' === $limit ) {
		return array();
	}
	if ( ! is_map( $limit ) ) {
		throw new Invalid( $f, __( 'must be an object of rules', 'wpbridge-stub' ) );
	}
	$out = array();
	foreach ( $limit as $key => $rule ) {
		$key = (string) $key;
		if ( ! is_map( $rule ) ) {
			throw new Invalid( "$f.$key", __( 'must be an object', 'wpbridge-stub' ) );
		}
		$r = array();
		foreach ( $rule as $k => $v ) {
			if ( 'visibility' === $k && null !== $visibilities ) {
				$r[ $k ] = to_enum( $v, $visibilities, "$f.$key.visibility" );
			} elseif ( 'behavior' === $k ) {
				$r[ $k ] = to_enum( $v, $behaviors, "$f.$key.behavior" );
			} else {
				throw new Invalid( "$f.$key.$k", __( 'unknown key', 'wpbridge-stub' ) );
			}
		}
		$out[ $key ] = $r;
	}
	return $out;
}

/** Limitations ready for JSON: the whole object and every map inside as `{}` even when empty. */
function limitations_out( mixed $lim ): object {
	if ( ! is_array( $lim ) ) {
		return new \stdClass();
	}
	foreach ( $lim as $name => $module ) {
		if ( is_array( $module ) && array_key_exists( 'limit', $module ) && is_array( $module['limit'] ) ) {
			$map = array();
			foreach ( $module['limit'] as $k => $entry ) {
				$map[ $k ] = is_array( $entry ) ? (object) $entry : $entry;
			}
			$module['limit'] = (object) $map;
		}
		$lim[ $name ] = is_array( $module ) ? (object) $module : $module;
	}
	return (object) $lim;
}

// ---------------------------------------------------------------------------------------- reading one limit

/** A numeric module's limit: null = not limited (no module, disabled, 0 or ''). */
function number_limit( ?array $quota, string $module ): ?int {
	$m = $quota[ $module ] ?? null;
	if ( ! is_array( $m ) || empty( $m['enabled'] ) ) {
		return null;
	}
	$limit = $m['limit'] ?? null;
	return ( is_int( $limit ) && $limit > 0 ) ? $limit : null;
}

/**
 * One entry of `users` / `post_types`: null = not limited; 0 = not allowed at all (entry disabled); N = at most N.
 * A disabled module limits nothing; a name missing from the map is not limited.
 */
function entry_limit( ?array $quota, string $module, string $key ): ?int {
	$m = $quota[ $module ] ?? null;
	if ( ! is_array( $m ) || empty( $m['enabled'] ) || ! is_array( $m['limit'] ?? null ) ) {
		return null;
	}
	$entry = $m['limit'][ $key ] ?? null;
	if ( ! is_array( $entry ) ) {
		return null;
	}
	if ( array_key_exists( 'enabled', $entry ) && ! $entry['enabled'] ) {
		return 0;
	}
	$n = $entry['number'] ?? null;
	return ( is_int( $n ) && $n > 0 ) ? $n : null;
}
