<?php
/**
 * Small shared helpers: the validation exception, value coercion (ints, booleans, money, dates), error replies,
 * list parameters and paged replies. Every coercion throws Invalid naming the field, so a handler can validate a
 * whole record first and write nothing when any field is wrong.
 */

namespace WPBridge;

if ( ! defined( 'ABSPATH' ) ) {
	exit;
}

/** A rejected input value. `field` is a dotted path into the request body, e.g. `addon_products.31`. */
class Invalid extends \Exception {
	public function __construct( public string $field, string $reason ) {
		parent::__construct( $reason );
	}
}

/** A 400 naming the field: `{"code":"rest_invalid_param","message":"amount: must be >= 0","data":{...}}`. */
function invalid_error( Invalid $e ): \WP_Error {
	return new \WP_Error(
		'rest_invalid_param',
		$e->field . ': ' . $e->getMessage(),
		array(
			'status' => 400,
			'field'  => $e->field,
			'params' => array( $e->field => $e->getMessage() ),
		)
	);
}

/** A named lock (GET_LOCK) could not be had in time: a 503 `wpbridge_busy`, nothing written. */
class Busy extends \Exception {
}

function error( string $code, string $message, int $status, array $extra = array() ): \WP_Error {
	return new \WP_Error( $code, $message, array_merge( array( 'status' => $status ), $extra ) );
}

/**
 * The request's body, which must be a JSON object: `"hello"`, `null`, `42`, a list or an empty body are a 400
 * naming `(body)` (they once read as `{}`, which erased a quota). A form-encoded or multipart body is read as its
 * fields, and one without fields is a 400 too (it once erased a quota the same way). In a
 * batch, WordPress passes each item's body as body params and drops an empty one; guard.php refuses a write item
 * that has no `body` before the batch runs, so an item arriving here without one was sent as `{}`.
 */
function body( \WP_REST_Request $request ): array {
	$raw = trim( (string) $request->get_body() );
	if ( '' === $raw ) {
		if ( in_batch() || $request->get_body_params() ) {
			return $request->get_body_params();
		}
		throw new Invalid( '(body)', __( 'is required: a JSON object', 'wpbridge-stub' ) );
	}
	$type = $request->get_content_type();
	$type = is_array( $type ) ? (string) $type['value'] : '';
	if ( in_array( $type, array( 'application/x-www-form-urlencoded', 'multipart/form-data' ), true ) ) {
		if ( ! $request->get_body_params() ) {
			throw new Invalid( '(body)', __( 'is required: a form body without fields is not accepted', 'wpbridge-stub' ) );
		}
		return $request->get_body_params();
	}
	if ( ! str_starts_with( $raw, '{' ) ) {
		/* translators: %s: the start of the body. */
		throw new Invalid( '(body)', sprintf( __( 'must be a JSON object (got %s)', 'wpbridge-stub' ), short( $raw ) ) );
	}
	$json = json_decode( $raw, true );
	if ( ! is_array( $json ) ) {
		throw new Invalid( '(body)', __( 'is not valid JSON', 'wpbridge-stub' ) );
	}
	return $json;
}

/**
 * A path parameter of the matched route (`id`, `blog_id`, `name`). Never `$request[...]`: WordPress's get_param()
 * lets the JSON body and the query string override the URL, so `PUT /membership/2 {"id":3}` would write 3.
 */
function url_param( \WP_REST_Request $request, string $key ): string {
	$params = $request->get_url_params();
	return isset( $params[ $key ] ) && is_scalar( $params[ $key ] ) ? (string) $params[ $key ] : '';
}

function url_id( \WP_REST_Request $request, string $key = 'id' ): int {
	return (int) url_param( $request, $key );
}

/** A JSON object decoded to a PHP array (an empty array counts: PHP cannot tell `{}` from `[]`). */
function is_map( mixed $v ): bool {
	return is_array( $v ) && ( array() === $v || ! array_is_list( $v ) );
}

function to_int( mixed $v, string $field, ?int $min = 0, ?int $max = null ): int {
	if ( is_bool( $v ) || null === $v ) {
		throw new Invalid( $field, __( 'must be an integer', 'wpbridge-stub' ) );
	}
	if ( is_int( $v ) ) {
		$i = $v;
	} elseif ( is_float( $v ) && floor( $v ) === $v && abs( $v ) < PHP_INT_MAX ) {
		$i = (int) $v;
	} elseif ( is_string( $v ) && preg_match( '/^\s*-?\d{1,18}\s*$/', $v ) ) {
		$i = (int) trim( $v );
	} else {
		/* translators: %s: the value given. */
		throw new Invalid( $field, sprintf( __( 'must be an integer (got %s)', 'wpbridge-stub' ), short( $v ) ) );
	}
	if ( null !== $min && $i < $min ) {
		/* translators: 1: the lowest value allowed, 2: the value given. */
		throw new Invalid( $field, sprintf( __( 'must be >= %1$s (got %2$s)', 'wpbridge-stub' ), $min, $i ) );
	}
	if ( null !== $max && $i > $max ) {
		/* translators: 1: the highest value allowed, 2: the value given. */
		throw new Invalid( $field, sprintf( __( 'must be <= %1$s (got %2$s)', 'wpbridge-stub' ), $max, $i ) );
	}
	return $i;
}

function to_bool( mixed $v, string $field ): bool {
	if ( is_bool( $v ) ) {
		return $v;
	}
	if ( 0 === $v || 1 === $v ) {
		return (bool) $v;
	}
	if ( is_string( $v ) ) {
		$l = strtolower( trim( $v ) );
		if ( in_array( $l, array( '1', 'true', 'yes', 'on' ), true ) ) {
			return true;
		}
		if ( in_array( $l, array( '0', 'false', 'no', 'off', '' ), true ) ) {
			return false;
		}
	}
	/* translators: %s: the value given. */
	throw new Invalid( $field, sprintf( __( 'must be a boolean (got %s)', 'wpbridge-stub' ), short( $v ) ) );
}

/** A money amount as a decimal string with 4 places (DECIMAL(13,4)); never through float arithmetic. */
function to_money( mixed $v, string $field ): string {
	if ( is_int( $v ) ) {
		$s = (string) $v;
	} elseif ( is_float( $v ) && is_finite( $v ) ) {
		$s = rtrim( rtrim( sprintf( '%.6F', $v ), '0' ), '.' );
	} elseif ( is_string( $v ) ) {
		$s = trim( $v );
	} else {
		/* translators: %s: the value given. */
		throw new Invalid( $field, sprintf( __( 'must be a decimal amount (got %s)', 'wpbridge-stub' ), short( $v ) ) );
	}
	if ( ! preg_match( '/^(-?)(\d{1,9})(?:\.(\d+))?$/', $s, $m ) ) {
		/* translators: %s: the value given. */
		throw new Invalid( $field, sprintf( __( 'must be a decimal amount with at most 9 integer digits (got %s)', 'wpbridge-stub' ), short( $v ) ) );
	}
	if ( '-' === $m[1] && ( (int) $m[2] > 0 || (int) ( $m[3] ?? '0' ) > 0 ) ) {
		/* translators: %s: the value given. */
		throw new Invalid( $field, sprintf( __( 'must be >= 0 (got %s)', 'wpbridge-stub' ), $s ) );
	}
	$frac = $m[3] ?? '';
	if ( strlen( rtrim( $frac, '0' ) ) > 4 ) {
		/* translators: %s: the value given. */
		throw new Invalid( $field, sprintf( __( 'has more than 4 decimal places (got %s)', 'wpbridge-stub' ), $s ) );
	}
	return ltrim( $m[2], '0' ) === '' ? '0.' . str_pad( substr( $frac, 0, 4 ), 4, '0' )
		: ltrim( $m[2], '0' ) . '.' . str_pad( substr( $frac, 0, 4 ), 4, '0' );
}

/** A date as stored (`Y-m-d H:i:s` GMT) or null. Accepts that format or ISO 8601 (with an offset, or taken as UTC). */
function to_date( mixed $v, string $field ): ?string {
	if ( null === $v || false === $v || '' === $v || ( is_string( $v ) && str_starts_with( $v, '0000-00-00' ) ) ) {
		return null;
	}
	if ( ! is_string( $v ) ) {
		/* translators: %s: the value given. */
		throw new Invalid( $field, sprintf( __( 'must be a date string (got %s)', 'wpbridge-stub' ), short( $v ) ) );
	}
	$dt = parse_datetime( $v );
	if ( null === $dt ) {
		/* translators: %s: the value given. */
		throw new Invalid( $field, sprintf( __( 'must be \'Y-m-d H:i:s\' (GMT) or ISO 8601 (got %s)', 'wpbridge-stub' ), short( $v ) ) );
	}
	return db_datetime( $dt, $field );
}

/**
 * A date-time as a DATETIME column stores it, after checking the column's range (years 1000..9999 in UTC): with
 * strict mode off (WordPress's default), MySQL would store an out-of-range value as zeros or null silently.
 */
function db_datetime( \DateTimeImmutable $dt, string $field ): string {
	$year = (int) $dt->format( 'Y' );
	if ( $year < 1000 || $year > 9999 ) {
		/* translators: %s: the date given. */
		throw new Invalid( $field, sprintf( __( 'must be between 1000-01-01 and 9999-12-31 23:59:59 UTC (got %s)', 'wpbridge-stub' ), $dt->format( 'Y-m-d\TH:i:s\Z' ) ) );
	}
	return $dt->format( 'Y-m-d H:i:s' );
}

function parse_datetime( string $v ): ?\DateTimeImmutable {
	$v   = trim( $v );
	$utc = new \DateTimeZone( 'UTC' );
	if ( ! preg_match( '/^\d{4}-\d{2}-\d{2}([ T]\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?(Z|[+-]\d{2}:?\d{2})?$/i', $v ) ) {
		return null;
	}
	try {
		$dt = new \DateTimeImmutable( $v, $utc );
	} catch ( \Exception ) {
		return null;
	}
	$errors = \DateTimeImmutable::getLastErrors();
	if ( $errors && ( $errors['warning_count'] || $errors['error_count'] ) ) {
		return null; // e.g. 2026-02-30.
	}
	return $dt->setTimezone( $utc );
}

function iso( ?string $gmt ): ?string {
	if ( null === $gmt || '' === $gmt ) {
		return null;
	}
	return gmdate( 'Y-m-d\TH:i:s\Z', strtotime( $gmt . ' UTC' ) );
}

function to_enum( mixed $v, array $allowed, string $field ): string {
	if ( ! is_string( $v ) || ! in_array( $v, $allowed, true ) ) {
		/* translators: 1: the values allowed, 2: the value given. */
		throw new Invalid( $field, sprintf( __( 'must be one of %1$s (got %2$s)', 'wpbridge-stub' ), implode( '|', $allowed ), short( $v ) ) );
	}
	return $v;
}

/** A plain-text value (a name, a title) as WordPress stores its own: `sanitize_text_field` (no tags, no octets). */
function to_text( mixed $v, string $field, int $max = 191, bool $nullable = true ): string {
	return sanitize_text_field( to_string( $v, $field, $max, $nullable ) );
}

/** A description that may hold HTML, as WordPress stores post content: `wp_kses_post` (no script, no handlers). */
function to_html( mixed $v, string $field, int $max = 65535 ): string {
	return wp_kses_post( to_string( $v, $field, $max ) );
}

function to_string( mixed $v, string $field, int $max = 191, bool $nullable = true ): string {
	if ( null === $v || false === $v ) {
		if ( $nullable ) {
			return '';
		}
		throw new Invalid( $field, __( 'is required', 'wpbridge-stub' ) );
	}
	if ( ! is_string( $v ) && ! is_int( $v ) ) {
		/* translators: %s: the value given. */
		throw new Invalid( $field, sprintf( __( 'must be a string (got %s)', 'wpbridge-stub' ), short( $v ) ) );
	}
	$s = (string) $v;
	if ( mb_strlen( $s ) > $max ) {
		/* translators: %s: the highest value allowed. */
		throw new Invalid( $field, sprintf( __( 'must be at most %s characters', 'wpbridge-stub' ), $max ) );
	}
	if ( $max >= TEXT_BYTES && strlen( $s ) > TEXT_BYTES ) {
		/* translators: %s: the limit in bytes. */
		throw new Invalid( $field, sprintf( __( 'must be at most %s bytes (a TEXT column)', 'wpbridge-stub' ), TEXT_BYTES ) );
	}
	return $s;
}

/** What a MySQL TEXT column holds, in bytes; MySQL would cut a longer value silently. */
const TEXT_BYTES = 65535;

/** A list of positive ids: a JSON list, or UM's comma-separated string. */
function to_id_list( mixed $v, string $field ): array {
	if ( null === $v || false === $v || '' === $v ) {
		return array();
	}
	if ( is_string( $v ) ) {
		$v = array_values( array_filter( array_map( 'trim', explode( ',', $v ) ), 'strlen' ) );
	}
	if ( ! is_array( $v ) ) {
		throw new Invalid( $field, __( 'must be a list of ids', 'wpbridge-stub' ) );
	}
	$out = array();
	foreach ( array_values( $v ) as $i => $id ) {
		$out[] = to_int( $id, "$field.$i", 1 );
	}
	return array_values( array_unique( $out ) );
}

/** `%d,%d,%d`: one placeholder per item, for an IN list given to $wpdb->prepare() (callers make sure it is not empty). */
function placeholders( array $items, string $placeholder ): string {
	return implode( ',', array_fill( 0, count( $items ), $placeholder ) );
}

/** A query parameter that must be one value: `?search[]=a` is a 400, not a PHP warning. */
function scalar_param( mixed $v, string $field ): string {
	if ( ! is_scalar( $v ) ) {
		throw new Invalid( $field, __( 'must be a single value, not a list', 'wpbridge-stub' ) );
	}
	return (string) $v;
}

/** A short printable form of a rejected value for error messages (never a whole body). */
function short( mixed $v ): string {
	$s = is_string( $v ) ? '"' . $v . '"' : wp_json_encode( $v );
	if ( ! is_string( $s ) ) {
		$s = gettype( $v );
	}
	return strlen( $s ) > 40 ? substr( $s, 0, 37 ) . '...' : $s;
}

/** Cast an empty PHP array to `{}` so JSON maps never come out as `[]`. */
function as_map( mixed $v ): mixed {
	if ( is_array( $v ) ) {
		return (object) $v;
	}
	return $v;
}

function json_out( mixed $v ): string {
	return (string) wp_json_encode( $v, JSON_UNESCAPED_SLASHES | JSON_UNESCAPED_UNICODE );
}

function json_in( ?string $s, mixed $default = array() ): mixed {
	if ( null === $s || '' === $s ) {
		return $default;
	}
	$v = json_decode( $s, true );
	return null === $v ? $default : $v;
}

/**
 * Paging of a list request, UM main's rules: `page`/`per_page` (default 1/10, max 100; above -> 400) win over
 * `number`/`offset` (older UM; number max 100). Returns [limit, offset, per_page].
 */
function paging( \WP_REST_Request $request ): array {
	$q = $request->get_query_params();
	if ( isset( $q['page'] ) || isset( $q['per_page'] ) || ! isset( $q['number'] ) ) {
		$per_page = to_int( $q['per_page'] ?? 10, 'per_page', 1, 100 );
		$page     = to_int( $q['page'] ?? 1, 'page', 1 );
		return array( $per_page, ( $page - 1 ) * $per_page, $per_page );
	}
	$number = to_int( $q['number'], 'number', 1, 100 );
	$offset = to_int( $q['offset'] ?? 0, 'offset', 0 );
	return array( $number, $offset, $number );
}

function paged_response( array $items, int $total, int $per_page ): \WP_REST_Response {
	$response = new \WP_REST_Response( $items, 200 );
	$response->header( 'X-WP-Total', (string) $total );
	$response->header( 'X-WP-TotalPages', (string) ( $per_page > 0 ? (int) ceil( $total / $per_page ) : 0 ) );
	return $response;
}

/** Run a handler body, turning Invalid into a 400 that names the field. */
function guarded( callable $fn ): callable {
	return function ( \WP_REST_Request $request ) use ( $fn ) {
		try {
			return $fn( $request );
		} catch ( Invalid $e ) {
			return invalid_error( $e );
		} catch ( Busy $e ) {
			return error( 'wpbridge_busy', $e->getMessage(), 503 );
		}
	};
}
