<?php
/*
 * The example network in the UM flavor, written through Ultimate Multisite's own PHP functions (wu_create_product,
 * wu_create_customer, wu_create_membership) so that every row, meta and default is what UM itself stores (nulls
 * included); sites are WordPress sites linked to their membership the way UM links them: blogmeta
 * wu_membership_id, wu_customer_id and wu_type = customer_owned. The story (catalog, customers, statuses, dates,
 * add-ons, sites) is the same as the stub flavor's REST seed: the JSON spec is made by wpbridge/sandbox/um_seed.py
 * from example.py and seed.py. Product slugs in the spec stand for the ids UM gives.
 *   env: WP_DOCROOT, WP_DOMAIN, WP_ADMIN_USER, UM_SEED_FILE (the spec, mode 0600; it holds user passwords)
 * Prints one JSON object: products {slug: id}, customers [{username, user_id, customer_id, membership_id, ...}].
 */
if ( PHP_SAPI !== 'cli' ) {
	exit( 1 );
}
function wpbridge_seed_fail( $message ) {
	fwrite( STDERR, "um-seed.php: $message\n" );
	exit( 4 );
}
function wpbridge_seed_check( $result, $what ) {
	if ( is_wp_error( $result ) ) {
		wpbridge_seed_fail( "$what: " . $result->get_error_code() . ': ' . $result->get_error_message() );
	}
	if ( ! $result ) {
		wpbridge_seed_fail( "$what: failed" );
	}
	return $result;
}
$wpb_docroot = rtrim( (string) getenv( 'WP_DOCROOT' ), '/' );
$wpb_domain  = (string) getenv( 'WP_DOMAIN' );
require __DIR__ . '/cli-request.php';
wpbridge_fake_request( $wpb_domain, $wpb_docroot );
require $wpb_docroot . '/wp-load.php';

if ( ! function_exists( 'wu_create_membership' ) ) {
	wpbridge_seed_fail( 'Ultimate Multisite is not loaded' );
}
$wpb_admin = get_user_by( 'login', (string) getenv( 'WP_ADMIN_USER' ) );
wp_set_current_user( $wpb_admin->ID );
$wpb_spec = json_decode( (string) file_get_contents( (string) getenv( 'UM_SEED_FILE' ) ), true );
if ( ! is_array( $wpb_spec ) ) {
	wpbridge_seed_fail( 'UM_SEED_FILE is not a JSON object' );
}

// 1. Products, then their add-on lists (add-ons are created after the plans that offer them).
$wpb_ids = array();
foreach ( $wpb_spec['products'] as $wpb_p ) {
	$wpb_data = array(
		'name'             => $wpb_p['name'],
		'slug'             => $wpb_p['slug'],
		'type'             => $wpb_p['type'],
		'pricing_type'     => $wpb_p['pricing_type'],
		'amount'           => (float) $wpb_p['amount'],
		'setup_fee'        => (float) ( $wpb_p['setup_fee'] ?? 0 ),
		'recurring'        => (bool) $wpb_p['recurring'],
		'duration'         => (int) $wpb_p['duration'],
		'duration_unit'    => $wpb_p['duration_unit'],
		'list_order'       => (int) $wpb_p['list_order'],
		'group'            => (string) ( $wpb_p['product_group'] ?? '' ),
		'currency'         => 'USD',
		'active'           => true,
		'price_variations' => array_map(
			fn( $v ) => array(
				'duration'      => (int) $v['duration'],
				'duration_unit' => $v['duration_unit'],
				'amount'        => (float) $v['amount'],
			),
			$wpb_p['price_variations'] ?? array()
		),
	);
	$wpb_product = wpbridge_seed_check( wu_create_product( $wpb_data ), "product {$wpb_p['slug']}" );
	if ( ! empty( $wpb_p['limitations'] ) ) {
		$wpb_product->update_meta( 'wu_limitations', $wpb_p['limitations'] );
	}
	$wpb_ids[ $wpb_p['slug'] ] = (int) $wpb_product->get_id();
}
foreach ( $wpb_spec['products'] as $wpb_p ) {
	if ( ! empty( $wpb_p['available_addons'] ) ) {
		$wpb_product = wu_get_product( $wpb_ids[ $wpb_p['slug'] ] );
		$wpb_product->set_available_addons( array_map( fn( $s ) => $wpb_ids[ $s ], $wpb_p['available_addons'] ) );
		wpbridge_seed_check( $wpb_product->save(), "add-ons of {$wpb_p['slug']}" );
	}
}

// 2. Customers (WordPress users made by UM), their memberships and sites.
$wpb_customers = array();
foreach ( $wpb_spec['members'] as $wpb_m ) {
	$wpb_c        = $wpb_m['customer'];
	$wpb_customer = wpbridge_seed_check(
		wu_create_customer(
			array(
				'username'           => $wpb_m['username'],
				'email'              => $wpb_m['email'],
				'password'           => $wpb_m['password'],
				'email_verification' => $wpb_c['email_verification'],
				'date_registered'    => $wpb_c['date_registered'],
				'billing_address'    => $wpb_c['billing_address'],
			)
		),
		"customer {$wpb_m['username']}"
	);
	$wpb_user_id = (int) $wpb_customer->get_user_id();
	wp_update_user(
		array(
			'ID'           => $wpb_user_id,
			'first_name'   => $wpb_m['first_name'],
			'last_name'    => $wpb_m['last_name'],
			'display_name' => $wpb_m['name'],
		)
	);
	if ( $wpb_c['has_trialed'] ) { // otherwise left as UM leaves it (null), as on a real network
		$wpb_customer->set_has_trialed( true );
		wpbridge_seed_check( $wpb_customer->save(), "customer {$wpb_m['username']}" );
	}
	$wpb_body                   = $wpb_m['membership'];
	$wpb_body['customer_id']    = $wpb_customer->get_id();
	$wpb_body['user_id']        = $wpb_user_id;
	$wpb_body['plan_id']        = $wpb_ids[ $wpb_body['plan_id'] ];
	$wpb_addons                 = array();
	foreach ( $wpb_body['addon_products'] as $wpb_slug => $wpb_qty ) {
		$wpb_addons[ $wpb_ids[ $wpb_slug ] ] = (int) $wpb_qty;
	}
	$wpb_body['addon_products'] = $wpb_addons;
	$wpb_membership             = wpbridge_seed_check( wu_create_membership( $wpb_body ), "membership of {$wpb_m['username']}" );
	if ( ! empty( $wpb_body['date_cancellation'] ) ) {
		$wpb_membership->set_date_cancellation( $wpb_body['date_cancellation'] );
		wpbridge_seed_check( $wpb_membership->save(), "membership of {$wpb_m['username']}" );
	}
	$wpb_blogs = array();
	foreach ( $wpb_m['sites'] as $wpb_site ) {
		// A subdomain network (sandbox up --subdomains): /alice/ becomes alice.DOMAIN/.
		$wpb_host = is_subdomain_install() ? trim( $wpb_site['path'], '/' ) . '.' . $wpb_domain : $wpb_domain;
		$wpb_path = is_subdomain_install() ? '/' : $wpb_site['path'];
		$wpb_blog = domain_exists( $wpb_host, $wpb_path, 1 );
		if ( ! $wpb_blog ) {
			$wpb_blog = wpbridge_seed_check(
				wpmu_create_blog( $wpb_host, $wpb_path, $wpb_site['title'], $wpb_user_id, array( 'public' => 1 ), 1 ),
				"site {$wpb_host}{$wpb_path}"
			);
		}
		update_site_meta( $wpb_blog, 'wu_membership_id', (int) $wpb_membership->get_id() );
		update_site_meta( $wpb_blog, 'wu_customer_id', (int) $wpb_customer->get_id() );
		update_site_meta( $wpb_blog, 'wu_type', 'customer_owned' );
		$wpb_blogs[] = (int) $wpb_blog;
	}
	$wpb_customers[] = array(
		'username'      => $wpb_m['username'],
		'user_id'       => $wpb_user_id,
		'customer_id'   => (int) $wpb_customer->get_id(),
		'membership_id' => (int) $wpb_membership->get_id(),
		'plan'          => $wpb_m['plan'],
		'status'        => $wpb_membership->get_status(),
		'blog_ids'      => $wpb_blogs,
	);
}
echo wp_json_encode(
	array(
		'products'  => $wpb_ids,
		'customers' => $wpb_customers,
	)
), "\n";
