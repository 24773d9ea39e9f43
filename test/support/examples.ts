// The example projects and the configuration each needs to render (the values a user would `pulumi config set`).
export const EXAMPLES: Record<string, Record<string, string>> = {
  quickstart: {},
  'pod-template': {},
  'helm-transform': {},
  'add-heap-dumps': {},
  'huawei-obs': {
    image: 'swr.cn-north-4.myhuaweicloud.com/finance/billing:2.3.1',
    bucket: 'finance-heapdumps',
  },
  'eks-irsa': {
    image: '123456789012.dkr.ecr.eu-west-1.amazonaws.com/search:5.0.0',
    oidcProviderArn:
      'arn:aws:iam::123456789012:oidc-provider/oidc.eks.eu-west-1.amazonaws.com/id/EXAMPLE0123456789',
  },
};
