#include <linux/bpf.h>
#include <linux/ip.h>
#include <linux/udp.h>
#include <bpf/bpf_helpers.h>

SEC("socket")
int sockfmdel(struct __sk_buff *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end; // <- rejected here

	struct iphdr *iph = data;
	struct udphdr *udp = data + sizeof(*iph);

	if (data + sizeof(*iph) + sizeof(*udp) > data_end)
		return 0;

	return udp->len;
}

char _license[] SEC("license") = "GPL";
