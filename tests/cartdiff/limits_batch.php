<?php
/**
 * UM's composite limitations as an oracle: `wu_get_membership($id)->get_limitations()->to_array()` per scenario.
 *
 *   php limits_batch.php --um-json=F < scenarios.jsonl > results.jsonl
 *
 * Scenario: {"id", "products": {"k": {"type": "plan|package|service", "limitations": {...wu_limitations...}}},
 * "membership": {"plan": "k", "addon_products": {"k": qty}, "limitations": {...}}}. Each runs in a transaction
 * rolled back; UM's static limitations cache is emptied between scenarios.
 */
if (PHP_SAPI !== 'cli') {
	exit(1);
}
$lb_cfg = null;
foreach (array_slice($argv, 1) as $lb_a) {
	if (0 === strpos($lb_a, '--um-json=')) {
		$lb_cfg = substr($lb_a, 10);
	}
}
$lb_conf   = json_decode(file_get_contents($lb_cfg), true);
$lb_domain = preg_replace('#^https?://#', '', $lb_conf['url']);
$_SERVER['HTTP_HOST']       = $lb_domain;
$_SERVER['SERVER_NAME']     = preg_replace('/:\d+$/', '', $lb_domain);
$_SERVER['SERVER_PORT']     = preg_match('/:(\d+)$/', $lb_domain, $lb_m) ? $lb_m[1] : '80';
$_SERVER['REQUEST_URI']     = '/';
$_SERVER['REMOTE_ADDR']     = '127.0.0.1';
$_SERVER['REQUEST_METHOD']  = 'GET';
$_SERVER['SERVER_PROTOCOL'] = 'HTTP/1.1';
$_SERVER['PHP_SELF']        = '/index.php';
$_SERVER['SCRIPT_NAME']     = '/index.php';
$_SERVER['SCRIPT_FILENAME'] = $lb_conf['docroot'] . '/index.php';
require $lb_conf['docroot'] . '/wp-load.php';

function lb_run($in) {
	$sfx   = substr(md5(uniqid('', true)), 0, 8);
	$prods = [];
	foreach ((array) $in['products'] as $k => $p) {
		$prod = wu_create_product(['name' => "L $k", 'slug' => "lim-$k-$sfx", 'pricing_type' => 'paid', 'amount' => 10,
			'currency' => 'USD', 'duration' => 1, 'duration_unit' => 'month', 'recurring' => true, 'active' => true,
			'type' => $p['type'] ?? 'plan']);
		if (is_wp_error($prod) || ! $prod->get_id()) {
			throw new Exception("wu_create_product($k)");
		}
		if (isset($p['limitations'])) {
			$prod->update_meta('wu_limitations', $p['limitations']);
		}
		$prods[ $k ] = $prod;
	}
	$uid  = wp_insert_user(['user_login' => "lb_$sfx", 'user_email' => "lb_$sfx@example.test", 'user_pass' => 'x' . $sfx]);
	$cust = wu_create_customer(['user_id' => $uid, 'email_verification' => 'verified']);
	$m    = (array) $in['membership'];
	$ap   = [];
	foreach ((array) ($m['addon_products'] ?? []) as $k => $q) {
		$ap[ $prods[ $k ]->get_id() ] = $q;
	}
	$mem = wu_create_membership(['customer_id' => $cust->get_id(), 'user_id' => $uid,
		'plan_id' => $prods[ $m['plan'] ]->get_id(), 'addon_products' => $ap, 'amount' => 10, 'initial_amount' => 10,
		'currency' => 'USD', 'duration' => 1, 'duration_unit' => 'month', 'recurring' => true, 'status' => 'active',
		'times_billed' => 1]);
	if (is_wp_error($mem) || ! wu_get_membership($mem->get_id())) {
		throw new Exception('wu_create_membership');
	}
	if (isset($m['limitations'])) {
		$mem->update_meta('wu_limitations', $m['limitations']);
	}
	return ['limitations' => wu_get_membership($mem->get_id())->get_limitations()->to_array()];
}

global $wpdb;
$lb_cache = new ReflectionProperty(\WP_Ultimo\Objects\Limitations::class, 'limitations_cache');
$lb_cache->setAccessible(true);
while (($lb_line = fgets(STDIN)) !== false) {
	$lb_line = trim($lb_line);
	if ('' === $lb_line) {
		continue;
	}
	$lb_in = json_decode($lb_line, true);
	$wpdb->query('START TRANSACTION');
	try {
		$lb_out = ['ok' => true] + lb_run($lb_in);
	} catch (Throwable $e) {
		$lb_out = ['ok' => false, 'error' => get_class($e) . ': ' . $e->getMessage()];
	}
	$wpdb->query('ROLLBACK');
	wp_cache_flush();
	$lb_cache->setValue(null, []);
	echo wp_json_encode(['id' => $lb_in['id'] ?? null, 'um_version' => \WP_Ultimo::VERSION] + $lb_out, JSON_UNESCAPED_SLASHES), "\n";
}
