<?php
/*
 * UM's computed limits of every site, today's bulk route against the one-site-at-a-time computation it replaced
 * (issue 22), in the same process on the same data: plugin-stub's um_computed_limits() (what
 * `GET /wpbridge/v1/quotas` runs in UM mode, a page of 100 blogs at a time) and um_computed_limits_per_site()
 * (`wu_get_site($id)->get_limitations()` for each site, the route's code before). Every value is compared; a single
 * difference fails the run. Each variant runs on a cold object cache (wp_cache_flush() and UM's static
 * limitations cache emptied first), the order alternates over --runs runs, and the best wall time is reported.
 *
 * Usage (PHP CLI; boots the sandbox's WordPress with its wp-config.php and database):
 *   php bench/um_limits.php DOCROOT DOMAIN [RUNS]
 * Prints one JSON object: sites, limited (sites with limits), per_site_ms, bulk_ms (best of RUNS, whole network),
 * per_site_ms_per_site, bulk_ms_per_site, speedup.
 */
if ( PHP_SAPI !== 'cli' ) {
	exit( 1 );
}
$bench_docroot = rtrim( $argv[1] ?? '', '/' );
$bench_domain  = $argv[2] ?? '';
$bench_runs    = max( 1, (int) ( $argv[3] ?? 3 ) );
if ( '' === $bench_docroot || '' === $bench_domain ) {
	fwrite( STDERR, "usage: php bench/um_limits.php DOCROOT DOMAIN [RUNS]\n" );
	exit( 2 );
}
$_SERVER['HTTP_HOST']       = $bench_domain;
$_SERVER['SERVER_NAME']     = preg_replace( '/:\d+$/', '', $bench_domain );
$_SERVER['SERVER_PORT']     = preg_match( '/:(\d+)$/', $bench_domain, $bench_m ) ? $bench_m[1] : '80';
$_SERVER['REQUEST_URI']     = '/';
$_SERVER['REQUEST_METHOD']  = 'GET';
$_SERVER['SERVER_PROTOCOL'] = 'HTTP/1.1';
$_SERVER['PHP_SELF']        = '/index.php';
$_SERVER['SCRIPT_NAME']     = '/index.php';
$_SERVER['SCRIPT_FILENAME'] = $bench_docroot . '/index.php';
require $bench_docroot . '/wp-load.php';

if ( ! class_exists( '\WP_Ultimo\Objects\Limitations' ) || 'um' !== \WPBridge\flavor()->name ) {
	fwrite( STDERR, "not a UM network (plugin-stub in UM mode)\n" );
	exit( 2 );
}

/** Empties WordPress's object cache and UM's static cache of stored limitations (a cold start, as a request). */
function bench_cold(): void {
	wp_cache_flush();
	$cache = new ReflectionProperty( '\WP_Ultimo\Objects\Limitations', 'limitations_cache' );
	$cache->setAccessible( true );
	$cache->setValue( null, array() );
}

/** [elapsed ms, values] of one pass over all blogs in pages of 100 with $fn. */
function bench_pass( callable $fn, array $ids ): array {
	bench_cold();
	$store = \WPBridge\flavor()->sites;
	$out   = array();
	$t0    = hrtime( true );
	foreach ( array_chunk( $ids, 100 ) as $page ) {
		$out += $fn( $store, $page );
	}
	return array( ( hrtime( true ) - $t0 ) / 1e6, $out );
}

$bench_ids  = array_map( 'intval', get_sites( array( 'fields' => 'ids', 'number' => 0 ) ) );
$bench_best = array(
	'per_site' => INF,
	'bulk'     => INF,
);
$bench_vals = array();
for ( $bench_i = 0; $bench_i < $bench_runs; $bench_i++ ) {
	$bench_order = 0 === $bench_i % 2 ? array( 'per_site', 'bulk' ) : array( 'bulk', 'per_site' );
	foreach ( $bench_order as $bench_name ) {
		$bench_fn                  = 'bulk' === $bench_name ? 'WPBridge\um_computed_limits' : 'WPBridge\um_computed_limits_per_site';
		list( $bench_ms, $bench_v ) = bench_pass( $bench_fn, $bench_ids );
		$bench_best[ $bench_name ]  = min( $bench_best[ $bench_name ], $bench_ms );
		$bench_vals[ $bench_name ]  = $bench_v;
	}
}
foreach ( $bench_ids as $bench_id ) {
	if ( wp_json_encode( $bench_vals['bulk'][ $bench_id ] ) !== wp_json_encode( $bench_vals['per_site'][ $bench_id ] ) ) {
		fwrite( STDERR, "blog $bench_id: the bulk value differs from UM's own\n" );
		exit( 1 );
	}
}
$bench_n = count( $bench_ids );
echo wp_json_encode(
	array(
		'sites'                => $bench_n,
		'limited'              => count( array_filter( $bench_vals['per_site'] ) ),
		'runs'                 => $bench_runs,
		'per_site_ms'          => round( $bench_best['per_site'], 1 ),
		'bulk_ms'              => round( $bench_best['bulk'], 1 ),
		'per_site_ms_per_site' => round( $bench_best['per_site'] / max( 1, $bench_n ), 3 ),
		'bulk_ms_per_site'     => round( $bench_best['bulk'] / max( 1, $bench_n ), 3 ),
		'speedup'              => round( $bench_best['per_site'] / max( 0.001, $bench_best['bulk'] ), 1 ),
		'um_version'           => \WP_Ultimo::VERSION,
		'load'                 => sys_getloadavg()[0],
	)
) . "\n";
