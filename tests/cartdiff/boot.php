<?php
/**
 * Shared start of the PHP oracles here (form_batch.php, limits_batch.php, cart_cost.php): reads `--um-json=F`
 * (F: {"url": the network's main URL, "docroot": the WordPress root}), fakes the web request WordPress expects and
 * loads WordPress with Ultimate Multisite. Included at the top level (WordPress needs its globals there); leaves
 * the parsed file in $boot_conf.
 */
if (PHP_SAPI !== 'cli') {
	exit(1);
}
$boot_cfg = null;
foreach (array_slice($argv, 1) as $boot_a) {
	if (0 === strpos($boot_a, '--um-json=')) {
		$boot_cfg = substr($boot_a, 10);
	}
}
if (null === $boot_cfg) {
	fwrite(STDERR, basename($argv[0]) . ": --um-json=F is required\n");
	exit(2);
}
$boot_conf   = json_decode(file_get_contents($boot_cfg), true);
$boot_domain = preg_replace('#^https?://#', '', $boot_conf['url']);
$_SERVER['HTTP_HOST']       = $boot_domain;
$_SERVER['SERVER_NAME']     = preg_replace('/:\d+$/', '', $boot_domain);
$_SERVER['SERVER_PORT']     = preg_match('/:(\d+)$/', $boot_domain, $boot_m) ? $boot_m[1] : '80';
$_SERVER['REQUEST_URI']     = '/';
$_SERVER['REMOTE_ADDR']     = '127.0.0.1';
$_SERVER['REQUEST_METHOD']  = 'GET';
$_SERVER['SERVER_PROTOCOL'] = 'HTTP/1.1';
$_SERVER['PHP_SELF']        = '/index.php';
$_SERVER['SCRIPT_NAME']     = '/index.php';
$_SERVER['SCRIPT_FILENAME'] = $boot_conf['docroot'] . '/index.php';
require $boot_conf['docroot'] . '/wp-load.php';
