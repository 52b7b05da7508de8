<?php
/**
 * UM mode: the companion routes read Ultimate Multisite's own tables ({$wpdb->base_prefix}wu_*) and meta, as
 * described in the reference (products + wu_productmeta `price_variations`, `wu_limitations`, `wu_available_addons`;
 * memberships; discount codes; wu_domain_mappings). UM cannot be installed on the development machines, so this
 * reader is written from the documented schema and kept small; the README says what is verified.
 */

namespace WPBridge;

if ( ! defined( 'ABSPATH' ) ) {
	exit;
}

function um_table( string $name ): string {
	global $wpdb;
	return $wpdb->base_prefix . 'wu_' . $name;
}

/** Meta values of many objects: [object_id][meta_key] => unserialized value. */
function um_meta( string $meta_table, string $id_column, array $ids, array $keys ): array {
	global $wpdb;
	if ( ! $ids ) {
		return array();
	}
	$out  = array();
	$col  = ident( $id_column );
	$rows = $wpdb->get_results(
		$wpdb->prepare(
			// phpcs:ignore WordPress.DB.PreparedSQL.InterpolatedNotPrepared -- a UM meta table and its id column, quoted by ident(); IN lists of placeholders.
			"SELECT $col AS oid, meta_key, meta_value FROM " . ident( um_table( $meta_table ) ) . " WHERE $col IN (" . placeholders( $ids, '%d' ) . ') AND meta_key IN (' . placeholders( $keys, '%s' ) . ')',
			array_merge( array_map( 'intval', $ids ), $keys )
		),
		ARRAY_A
	);
	foreach ( $rows ?: array() as $r ) {
		$out[ (int) $r['oid'] ][ $r['meta_key'] ] = um_value( maybe_unserialize( $r['meta_value'] ) );
	}
	return $out;
}

/** UM stores some limitations as a serialized Limitations object (to_array()) and modules as JSON strings. */
function um_value( mixed $v ): mixed {
	if ( is_object( $v ) ) {
		$v = method_exists( $v, 'to_array' ) ? $v->to_array() : json_decode( (string) wp_json_encode( $v ), true );
	}
	if ( is_array( $v ) ) {
		foreach ( $v as $k => $x ) {
			if ( is_string( $x ) && str_starts_with( ltrim( $x ), '{' ) ) {
				$v[ $k ] = json_decode( $x, true ) ?? $x;
			}
		}
	}
	return $v;
}

function um_catalog(): array {
	global $wpdb;
	$rows = $wpdb->get_results( 'SELECT * FROM ' . ident( um_table( 'products' ) ) . ' ORDER BY list_order ASC, id ASC', ARRAY_A ) ?: array(); // phpcs:ignore WordPress.DB.PreparedSQL.NotPrepared -- no value, UM's table quoted by ident().
	$meta = um_meta( 'productmeta', 'wu_product_id', array_column( $rows, 'id' ), array( 'price_variations', 'wu_limitations', 'wu_available_addons', 'taxable', 'tax_category' ) );
	$out  = array();
	foreach ( $rows as $r ) {
		$m       = $meta[ (int) $r['id'] ] ?? array();
		$addons  = $m['wu_available_addons'] ?? array();
		$addons  = is_string( $addons ) ? array_filter( array_map( 'intval', explode( ',', $addons ) ) ) : (array) $addons;
		$vars    = is_array( $m['price_variations'] ?? null ) ? array_values( $m['price_variations'] ) : array();
		$r      += array(
			'trial_duration_unit' => 'day',
			'product_group'       => '',
		);
		$r['product_group']    = (string) $r['product_group'];
		$r['available_addons'] = json_out( array_values( array_map( 'intval', $addons ) ) );
		$r['price_variations'] = json_out( array_map( fn( $v ) => array( 'duration' => (int) ( $v['duration'] ?? 1 ), 'duration_unit' => $v['duration_unit'] ?? 'month', 'amount' => (string) ( $v['amount'] ?? '0' ) ), $vars ) );
		$r['limitations']      = json_out( is_array( $m['wu_limitations'] ?? null ) ? $m['wu_limitations'] : array() );
		$r['taxable']          = array_key_exists( 'taxable', $m ) ? (bool) $m['taxable'] : true; // Product::is_taxable(): meta, absent = true.
		$r['tax_category']     = array_key_exists( 'tax_category', $m ) ? (string) $m['tax_category'] : 'default'; // Product::get_tax_category().
		$out[]                 = product_out( $r );
	}
	$codes = $wpdb->get_results( 'SELECT * FROM ' . ident( um_table( 'discount_codes' ) ) . ' ORDER BY id ASC', ARRAY_A ) ?: array(); // phpcs:ignore WordPress.DB.PreparedSQL.NotPrepared -- no value, UM's table quoted by ident().
	$dc    = um_discount_codes_out( $codes ); // UM keeps a code's product and period restrictions in its meta (discount-codes.php).
	return array(
		'products'       => $out,
		'discount_codes' => $dc,
	);
}

function um_membership_exists( int $id ): bool {
	global $wpdb;
	return (bool) $wpdb->get_var( $wpdb->prepare( 'SELECT id FROM ' . ident( um_table( 'memberships' ) ) . ' WHERE id = %d', $id ) ); // phpcs:ignore WordPress.DB.PreparedSQL.InterpolatedNotPrepared -- UM's table quoted by ident().
}

/** Active custom domains per blog from UM's domain-mapping table (absent table: none). */
function um_custom_domain_counts( array $blog_ids ): array {
	global $wpdb;
	$t = um_table( 'domain_mappings' );
	if ( $wpdb->get_var( $wpdb->prepare( 'SHOW TABLES LIKE %s', $wpdb->esc_like( $t ) ) ) !== $t ) {
		return array();
	}
	$out = array();
	if ( ! $blog_ids ) {
		return $out;
	}
	// phpcs:ignore WordPress.DB.PreparedSQL.InterpolatedNotPrepared -- UM's table quoted by ident(); an IN list of %d placeholders.
	$rows = $wpdb->get_results( $wpdb->prepare( 'SELECT blog_id, COUNT(*) AS n FROM ' . ident( $t ) . ' WHERE active = 1 AND blog_id IN (' . placeholders( $blog_ids, '%d' ) . ') GROUP BY blog_id', array_map( 'intval', $blog_ids ) ), ARRAY_A );
	foreach ( $rows ?: array() as $r ) {
		$out[ (int) $r['blog_id'] ] = (int) $r['n'];
	}
	return $out;
}

/**
 * Each membership's own override, UM's membership meta `wu_limitations` (which UM's `GET /wu/v2/membership` returns
 * empty), for these ids in one query: [membership_id => ['limitations' => array|null, 'unreadable' => string|null]].
 * An unknown membership is left out. As UM's `Limitations::early_get_limitations()`: the first stored row, an empty
 * value is no override (`[]`); a serialized Limitations object and JSON-string modules are decoded (um_value()).
 * A value that is not a limitations array (a broken serialization, a stray string) is reported as unreadable, never
 * as "no override" (UM's merge would skip it; wpbridge names it instead).
 */
function um_membership_limitations( array $ids ): array {
	global $wpdb;
	if ( ! $ids ) {
		return array();
	}
	$rows = $wpdb->get_results(
		$wpdb->prepare(
			// phpcs:ignore WordPress.DB.PreparedSQL.InterpolatedNotPrepared -- UM's tables quoted by ident(); an IN list of %d placeholders.
			'SELECT m.id AS mid, mm.meta_id, mm.meta_value FROM ' . ident( um_table( 'memberships' ) ) . ' m LEFT JOIN ' . ident( um_table( 'membershipmeta' ) ) . " mm ON mm.wu_membership_id = m.id AND mm.meta_key = 'wu_limitations' WHERE m.id IN (" . placeholders( $ids, '%d' ) . ') ORDER BY m.id ASC, mm.meta_id ASC',
			array_map( 'intval', $ids )
		),
		ARRAY_A
	) ?: array();
	$out  = array();
	foreach ( $rows as $r ) {
		$id = (int) $r['mid'];
		if ( isset( $out[ $id ] ) ) {
			continue; // UM reads the first row (LIMIT 1).
		}
		$out[ $id ] = array(
			'limitations' => array(),
			'unreadable'  => null,
		);
		if ( null === $r['meta_id'] || empty( $r['meta_value'] ) ) {
			continue;
		}
		$v = maybe_unserialize( $r['meta_value'] );
		// UM's merge reads an array or a Limitations object (to_array()); anything else it skips.
		$v = is_array( $v ) || ( is_object( $v ) && method_exists( $v, 'to_array' ) ) ? um_value( $v ) : $v;
		if ( is_array( $v ) && ( ! $v || ! array_is_list( $v ) ) ) {
			$out[ $id ]['limitations'] = $v;
		} elseif ( false !== $v && null !== $v ) {
			$out[ $id ]['limitations'] = null;
			/* translators: 1: PHP type of the stored value, 2: its length in bytes. */
			$out[ $id ]['unreadable'] = sprintf( __( 'the stored wu_limitations is not a limitations array (%1$s, %2$d bytes)', 'wpbridge-stub' ), get_debug_type( $v ), strlen( (string) $r['meta_value'] ) );
		}
	}
	return $out;
}
